/**
 * Which implementation runs a container, from its image and command line:
 *   agnhost (registry.k8s.io or k8s.gcr.io …/e2e-test-images/agnhost) with netexec, serve-hostname,
 *     pause (also the image's default command) or liveness → that emulation; with a command that is
 *     not the agnhost binary (`sh -c …`) → a local process; other subcommands → the identity
 *     responder, with a note in the container log;
 *   …/ingressconformance/echoserver → the ingress conformance echoserver;
 *   a toolbox image (busybox, alpine, curlimages/curl, nicolaka/netshoot, jessie-dnsutils;
 *     ../shell/toolbox-images.ts) → its command runs in the pod's simulated shell, never on the host;
 *   any other image with `command` → a real local process;
 *   anything else → the identity responder.
 * Pure.
 */
import { agnhostArgv, isAgnhostImage } from './agnhost-image.js';
import { toolboxProfile } from '../shell/toolbox-images.js';

export type AgnhostCommand = 'netexec' | 'serve-hostname' | 'pause' | 'liveness';

export type Emulation =
  | { kind: 'agnhost'; command: AgnhostCommand; flags: string[] }
  | { kind: 'echoserver' }
  | { kind: 'toolbox' }
  | { kind: 'process' }
  | { kind: 'identity'; note?: string };

const ECHOSERVER = /(^|[/-])ingressconformance\/echoserver(?::[^@]*)?(?:@.*)?$/;
const AGNHOST_COMMANDS = new Set<string>(['netexec', 'serve-hostname', 'pause', 'liveness']);

export function chooseEmulation(image: string | undefined, command: string[], args: string[]): Emulation {
  if (isAgnhostImage(image)) {
    if (command.length > 0 && !/(^|\/)agnhost$/.test(command[0]!)) return { kind: 'process' };
    const argv = agnhostArgv({}, command, args);
    // The image's CMD is `pause`.
    if (argv.length === 0) return { kind: 'agnhost', command: 'pause', flags: [] };
    const [sub, ...flags] = argv as [string, ...string[]];
    if (AGNHOST_COMMANDS.has(sub)) return { kind: 'agnhost', command: sub as AgnhostCommand, flags };
    return { kind: 'identity', note: `knet: agnhost ${sub} is not emulated; answering with the knet identity responder` };
  }
  if (image && ECHOSERVER.test(image)) return { kind: 'echoserver' };
  if (toolboxProfile(image)) return { kind: 'toolbox' };
  if (command.length > 0) return { kind: 'process' };
  return { kind: 'identity' };
}
