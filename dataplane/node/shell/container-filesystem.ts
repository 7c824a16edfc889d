/**
 * The virtual filesystem one container of an emulated image sees (a just-bash MountableFs):
 *   /etc/hostname, /etc/hosts, /etc/resolv.conf   as the kubelet writes them;
 *   /etc/passwd, /etc/group                       root only, as in busybox;
 *   /root (HOME), /tmp;
 *   every volumeMount at its mountPath (volume-files.ts), subPath mounts as a copy of one entry —
 *   among them the service-account files (the admission's kube-api-access-* volume).
 * Files a session writes stay for the container's life (later `exec`s see them), like a
 * container's writable layer; an emptyDir is one filesystem shared by the pod's containers; a
 * bound claim's volume is its PersistentVolume's directory on disk (a subPath: a directory in it),
 * read-only when the pod's volume or the mount says `readOnly` (writes there stay in the container's
 * memory and never reach the volume).
 *
 * `refresh()` re-reads ConfigMap, Secret, downward-API and projected volumes and swaps in new
 * contents when they changed — what the kubelet's periodic sync does (the runtime calls it
 * every volume sync period, ../runtime/pod-volume-sync.ts). subPath mounts are not updated,
 * as in Kubernetes.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Container, Volume } from 'kubernetes-types/core/v1.js';
import type { IFileSystem } from 'just-bash';
import type { JustBash } from './just-bash-loader.js';
import { volumeContent, type VolumeContent, type VolumeContext } from './volume-files.js';

export interface ContainerFilesystemInput {
  lib: JustBash;
  container: Container;
  volumes: Volume[];
  volumeContext: VolumeContext;
  etc: { hostname: string; hosts: string; resolvConf: string };
  /** The pod's emptyDir filesystems by volume name (shared across its containers). */
  emptyDir(name: string): IFileSystem;
}

export interface ContainerFilesystem {
  readonly fs: IFileSystem;
  /** Re-reads the refreshable volumes; `ctx` carries the pod as it is now (labels and annotations for downward-API files). */
  refresh(ctx?: VolumeContext): Promise<void>;
}

interface LiveMount {
  mountPath: string;
  volume: Volume;
  fingerprint: string;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

export async function createContainerFilesystem(input: ContainerFilesystemInput): Promise<ContainerFilesystem> {
  const { lib } = input;
  const base = new lib.InMemoryFs();
  const fs = new lib.MountableFs({ base });
  await writeFiles(base, [
    { path: '/etc/hostname', content: Buffer.from(input.etc.hostname + '\n'), mode: 0o644 },
    { path: '/etc/hosts', content: Buffer.from(input.etc.hosts), mode: 0o644 },
    { path: '/etc/resolv.conf', content: Buffer.from(input.etc.resolvConf), mode: 0o644 },
    { path: '/etc/passwd', content: Buffer.from(PASSWD), mode: 0o644 },
    { path: '/etc/group', content: Buffer.from(GROUP), mode: 0o644 },
  ]);
  for (const dir of ['/root', '/tmp', '/home', '/var/run', '/bin', '/usr/bin']) await base.mkdir(dir, { recursive: true });

  const live: LiveMount[] = [];
  for (const m of input.container.volumeMounts ?? []) {
    const volume = input.volumes.find((v) => v.name === m.name);
    if (!volume) continue;
    const mountPath = m.mountPath.replace(/\/+$/, '') || '/';
    if (mountPath === '/') continue;
    const content = volumeContent(volume, input.volumeContext);
    if (content.kind === 'persistentVolume') {
      tryMount(fs, base, mountPath, diskFilesystem(lib, content, m.subPath, content.readOnly || !!m.readOnly));
      continue;
    }
    if (m.subPath) {
      await copySubPath(lib, base, mountPath, m.subPath, content, volume.emptyDir ? input.emptyDir(volume.name) : undefined);
      continue;
    }
    if (content.kind === 'emptyDir') {
      tryMount(fs, base, mountPath, input.emptyDir(volume.name));
      continue;
    }
    tryMount(fs, base, mountPath, await filesystemOf(lib, content));
    if (content.kind === 'files') live.push({ mountPath, volume, fingerprint: fingerprintOf(content) });
  }

  return {
    fs,
    async refresh(ctx = input.volumeContext) {
      for (const l of live) {
        const content = volumeContent(l.volume, ctx);
        const fingerprint = fingerprintOf(content);
        if (fingerprint === l.fingerprint) continue;
        l.fingerprint = fingerprint;
        const next = await filesystemOf(lib, content);
        if (fs.isMountPoint(l.mountPath)) fs.unmount(l.mountPath);
        fs.mount(l.mountPath, next);
      }
    },
  };
}

async function filesystemOf(lib: JustBash, content: VolumeContent): Promise<IFileSystem> {
  const vfs = new lib.InMemoryFs();
  if (content.kind === 'files') await writeFiles(vfs, content.files.map((f) => ({ ...f, path: `/${f.path}` })));
  return vfs;
}

/** A directory of the machine (created 0700 if new; a subPath in it as the kubelet does, created if missing). */
function diskFilesystem(lib: JustBash, content: { dir: string }, subPath: string | undefined, readOnly: boolean): IFileSystem {
  mkdirSync(content.dir, { recursive: true, mode: 0o700 });
  const sub = (subPath ?? '').split('/').filter((s) => s && s !== '.' && s !== '..');
  const root = path.join(content.dir, ...sub);
  if (sub.length) mkdirSync(root, { recursive: true, mode: 0o755 });
  // Read-only: a copy-on-write view whose writes stay in this container's memory and never reach
  // the volume. (OverlayFs's own readOnly throws EROFS, which a just-bash redirection does not
  // turn into a shell error: `echo x > /data/f` would fail the whole command.)
  return readOnly ? new lib.OverlayFs({ root, mountPoint: '/' }) : new lib.ReadWriteFs({ root });
}

/** A mount, or (a mount point inside another mount, which MountableFs refuses) a directory in the base. */
function tryMount(fs: InstanceType<JustBash['MountableFs']>, base: IFileSystem, mountPath: string, target: IFileSystem): void {
  try {
    fs.mount(mountPath, target);
  } catch {
    void base.mkdir(mountPath, { recursive: true });
  }
}

/** subPath: the named entry of the volume, copied once to the mount path (never updated). */
async function copySubPath(lib: JustBash, base: IFileSystem, mountPath: string, subPath: string, content: VolumeContent, shared: IFileSystem | undefined): Promise<void> {
  const src = shared ?? (await filesystemOf(lib, content));
  const from = `/${subPath.replace(/^\/+/, '')}`;
  const parent = mountPath.slice(0, mountPath.lastIndexOf('/')) || '/';
  await base.mkdir(parent, { recursive: true });
  if (!(await src.exists(from))) {
    // The kubelet creates a missing subPath as a directory.
    await base.mkdir(mountPath, { recursive: true });
    return;
  }
  const stat = await src.stat(from);
  if (stat.isDirectory) {
    await base.mkdir(mountPath, { recursive: true });
    for (const name of await src.readdir(from)) {
      const s = await src.stat(`${from}/${name}`);
      if (s.isFile) await writeFiles(base, [{ path: `${mountPath}/${name}`, content: Buffer.from(await src.readFileBuffer(`${from}/${name}`)), mode: s.mode & 0o7777 }]);
    }
    return;
  }
  await writeFiles(base, [{ path: mountPath, content: Buffer.from(await src.readFileBuffer(from)), mode: stat.mode & 0o7777 }]);
}

async function writeFiles(fs: IFileSystem, files: Array<{ path: string; content: Buffer; mode: number }>): Promise<void> {
  for (const f of files) {
    const dir = f.path.slice(0, f.path.lastIndexOf('/'));
    if (dir) await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(f.path, new Uint8Array(f.content));
    await fs.chmod(f.path, f.mode);
  }
}

function fingerprintOf(content: VolumeContent): string {
  if (content.kind !== 'files') return content.kind;
  return JSON.stringify(content.files.map((f) => [f.path, f.mode, f.content.toString('base64')]));
}
