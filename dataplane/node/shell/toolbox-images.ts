/**
 * The toolbox images (DESIGN §4) and what their shell offers: which network tools are on the
 * image, which nslookup, and which C library resolves names (how the search list is walked).
 * A toolbox image's `command`/`args` run in the pod's simulated shell, never on the host; the
 * other emulated images (agnhost, the identity responder's, the echoserver) get the same shell
 * for `exec`, with every tool. Pure.
 *
 *   image                                         tools                                     libc   nslookup
 *   busybox, alpine                               wget nc nslookup ping                     glibc* busybox
 *   curlimages/curl                               + curl                                    musl   busybox
 *   nicolaka/netshoot                             curl wget nc nslookup dig host ping       musl   bind
 *   …/e2e-test-images/jessie-dnsutils, dnsutils   dig host nslookup nc ping                 glibc  bind
 *   anything else emulated                        all of them                               glibc  bind
 * (*) alpine is musl; busybox's default build is glibc, its `:musl` tags musl.
 */
import type { LibcFlavour } from './search-path.js';

export type NetworkTool = 'curl' | 'wget' | 'nc' | 'nslookup' | 'dig' | 'host' | 'ping';

export interface ShellProfile {
  image: 'busybox' | 'alpine' | 'curl' | 'netshoot' | 'dnsutils' | 'other';
  tools: ReadonlySet<NetworkTool>;
  libc: LibcFlavour;
  nslookup: 'busybox' | 'bind';
}

const ALL: NetworkTool[] = ['curl', 'wget', 'nc', 'nslookup', 'dig', 'host', 'ping'];
const BUSYBOX: NetworkTool[] = ['wget', 'nc', 'nslookup', 'ping'];

/** The image's repository path without registry, tag or digest: "docker.io/library/busybox:1.36" → "library/busybox". */
export function imageRepository(image: string): string {
  let ref = image.replace(/@.*$/, '');
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) parts.shift();
  if (parts.length === 1) parts.unshift('library');
  return parts.join('/');
}

function tagOf(image: string): string {
  const ref = image.replace(/@.*$/, '');
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}

/** The toolbox profile of an image, or undefined when it is no toolbox image. */
export function toolboxProfile(image: string | undefined): ShellProfile | undefined {
  if (!image) return undefined;
  const repo = imageRepository(image);
  const name = repo.split('/').pop()!;
  if (repo === 'library/busybox' || repo === 'e2e-test-images/busybox' || repo.endsWith('/busybox') && repo.includes('e2e-test-images')) {
    return { image: 'busybox', tools: new Set(BUSYBOX), libc: /musl/.test(tagOf(image)) ? 'musl' : 'glibc', nslookup: 'busybox' };
  }
  if (repo === 'library/alpine') return { image: 'alpine', tools: new Set(BUSYBOX), libc: 'musl', nslookup: 'busybox' };
  if (repo === 'curlimages/curl') return { image: 'curl', tools: new Set([...BUSYBOX, 'curl']), libc: 'musl', nslookup: 'busybox' };
  if (repo === 'nicolaka/netshoot') return { image: 'netshoot', tools: new Set(ALL), libc: 'musl', nslookup: 'bind' };
  if (name === 'jessie-dnsutils' || name === 'dnsutils') return { image: 'dnsutils', tools: new Set<NetworkTool>(['dig', 'host', 'nslookup', 'nc', 'ping']), libc: 'glibc', nslookup: 'bind' };
  return undefined;
}

/** The shell of any emulated image: its toolbox profile, else every tool. */
export function shellProfile(image: string | undefined): ShellProfile {
  return toolboxProfile(image) ?? { image: 'other', tools: new Set(ALL), libc: 'glibc', nslookup: 'bind' };
}
