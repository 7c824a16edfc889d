/**
 * A pod's volumes on disk, for its real programs — a host process cannot see the simulated
 * shell's /etc/downward. Laid out as the kubelet lays out /var/lib/kubelet/pods/<uid>:
 *
 *   <pod dir>/volumes/kubernetes.io~configmap/<volume>/…    (atomic-writer.ts: ..data and links)
 *   <pod dir>/volumes/kubernetes.io~secret/<volume>/…
 *   <pod dir>/volumes/kubernetes.io~downward-api/<volume>/…
 *   <pod dir>/volumes/kubernetes.io~projected/<volume>/…
 *   <pod dir>/volumes/kubernetes.io~empty-dir/<volume>/      shared by the pod's containers
 *   <pod dir>/mounts/<container>/<mountPath>                 what the container mounts, where
 *   <cluster dir>/volumes/<pv name>/                          a bound claim's PersistentVolume (not the pod's: it stays)
 *
 * A program finds its mounts under `$KNET_VOLUMES_DIR` (the container's `mounts/<container>`):
 * `/etc/downward/labels` is `$KNET_VOLUMES_DIR/etc/downward/labels`. A mount is a symlink to its
 * volume's directory, so ConfigMap, Secret and downward-API updates reach it (`sync`); a
 * `subPath` of such a volume is a copy made when the container starts (it never changes, as in
 * Kubernetes, until the container restarts); a `subPath` of an emptyDir or a claim is a link into
 * it. A claim's `readOnly` is not enforced for programs (a link cannot refuse writes).
 * Volume contents are the same function the simulated shell uses (../shell/volume-files.ts).
 */
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { chooseEmulation } from './image-selection.js';
import { volumeContent, type VolumeContext } from '../shell/volume-files.js';
import { writeAtomically } from './atomic-writer.js';

export const VOLUMES_DIR_ENV = 'KNET_VOLUMES_DIR';

/** The kubelet's plugin directory name for a volume's type. */
export function volumePluginDir(volume: Volume): string {
  if (volume.configMap) return 'kubernetes.io~configmap';
  if (volume.secret) return 'kubernetes.io~secret';
  if (volume.downwardAPI) return 'kubernetes.io~downward-api';
  if (volume.projected) return 'kubernetes.io~projected';
  if (volume.emptyDir) return 'kubernetes.io~empty-dir';
  // hostPath, local, a claim the node does not back…: knet offers no disk of the machine; an empty directory stands in.
  return `kubernetes.io~${Object.keys(volume).find((k) => k !== 'name') ?? 'unknown'}`;
}

/** Where an emptyDir of the pod whose directory is `podDir` lives (shared by its programs and, through the sandbox, its emulated images). */
export function emptyDirPath(podDir: string, volume: string): string {
  return path.join(podDir, 'volumes', 'kubernetes.io~empty-dir', volume);
}

/** Whether a pod runs a real program (only then are its volumes written to disk). */
export function runsPrograms(pod: Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => chooseEmulation(c.image, c.command ?? [], c.args ?? []).kind === 'process');
}

/** Where a volume of the pod whose directory is `podDir` is rendered (a program's kubeconfig names the service-account volume's files there). */
export function volumeDirPath(podDir: string, volume: Volume): string {
  return volume.emptyDir ? emptyDirPath(podDir, volume.name) : path.join(podDir, 'volumes', volumePluginDir(volume), volume.name);
}

export class PodVolumesDir {
  private written = false;
  private readonly fingerprints = new Map<string, string>();

  constructor(
    /** `<node state dir>/pods/<pod uid>` */
    readonly dir: string,
    private readonly volumes: readonly Volume[],
  ) {}

  volumeDir(volume: Volume): string {
    return volumeDirPath(this.dir, volume);
  }

  /** Writes every volume that changed since the last call (the first call writes them all). */
  sync(ctx: VolumeContext): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const volume of this.volumes) {
      const dir = this.volumeDir(volume);
      const content = volumeContent(volume, ctx);
      if (content.kind === 'persistentVolume') {
        mkdirSync(content.dir, { recursive: true, mode: 0o700 });
        continue;
      }
      if (content.kind !== 'files') {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        continue;
      }
      // Compared in memory first: a sync that finds nothing changed reads nothing from disk.
      const fingerprint = JSON.stringify(content.files.map((f) => [f.path, f.mode, f.content.toString('base64')]));
      if (this.fingerprints.get(volume.name) === fingerprint) continue;
      writeAtomically(dir, content.files);
      this.fingerprints.set(volume.name, fingerprint);
    }
    this.written = true;
  }

  /** The periodic sync: only once a program of the pod has needed the files (pods without programs write nothing). */
  resync(ctx: VolumeContext): void {
    if (this.written) this.sync(ctx);
  }

  /**
   * Lays out what `container` mounts (done again at each start, so subPath copies are fresh),
   * and returns the directory to export as KNET_VOLUMES_DIR; undefined when it mounts nothing.
   */
  prepareContainer(container: Container, ctx: VolumeContext): string | undefined {
    // Before any program of the pod runs, even one that mounts nothing: its KUBECONFIG names the
    // service-account volume's files (program-api-access.ts).
    if (!this.written) this.sync(ctx);
    const mounts = container.volumeMounts ?? [];
    if (!mounts.length) return undefined;
    const root = path.join(this.dir, 'mounts', container.name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true, mode: 0o755 });
    const placed: string[] = [];
    // Shorter paths first: a mount inside another mount's path would be written into that volume.
    for (const m of [...mounts].sort((a, b) => a.mountPath.length - b.mountPath.length)) {
      const volume = this.volumes.find((v) => v.name === m.name);
      const rel = m.mountPath.split('/').filter((s) => s && s !== '.' && s !== '..').join('/');
      if (!volume || !rel || placed.some((p) => rel === p || rel.startsWith(`${p}/`))) continue;
      placed.push(rel);
      const target = path.join(root, rel);
      mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      const persistent = volume.persistentVolumeClaim ? volumeContent(volume, ctx) : undefined;
      const source = persistent?.kind === 'persistentVolume' ? persistent.dir : this.volumeDir(volume);
      if (!m.subPath) {
        symlinkSync(source, target);
        continue;
      }
      const sub = path.join(source, ...m.subPath.split('/').filter((s) => s && s !== '..'));
      // Writable volumes the pod shares: a subPath is a link into the volume, not a copy.
      const shared = !!volume.emptyDir || persistent?.kind === 'persistentVolume';
      if (shared || !existsSync(sub)) {
        // The kubelet creates a missing subPath as a directory (in the volume, for an emptyDir or a claim).
        if (!existsSync(sub)) mkdirSync(shared ? sub : target, { recursive: true, mode: 0o755 });
        if (shared) symlinkSync(sub, target);
        continue;
      }
      // A copy of what the subPath names now (links resolved), never updated.
      cpSync(sub, target, { recursive: true, dereference: true });
    }
    return root;
  }

  /**
   * A program an earlier node agent run started, taken back: its mounts are in place; the
   * volumes are synced again from now on. Returns its KNET_VOLUMES_DIR (undefined: it mounts nothing).
   */
  adoptContainer(container: Container, ctx: VolumeContext): string | undefined {
    // Rendered again by this run of the agent (a new token among them), mounted or not, as at a start.
    this.sync(ctx);
    if (!(container.volumeMounts ?? []).length) return undefined;
    return path.join(this.dir, 'mounts', container.name);
  }

  /** The pod is gone: its volumes go with it. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
