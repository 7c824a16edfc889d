/**
 * What a pod's volume holds, file by file, as the kubelet's volume plugins write it:
 *   configMap   one file per key of data and binaryData, or only `items` (key → path, mode);
 *   secret      the same from the Secret's (base64) data;
 *   downwardAPI one file per item: a fieldRef (metadata.name, namespace, uid, labels,
 *               annotations, one label or annotation) or a resourceFieldRef
 *               (limits.cpu with a divisor…), labels and annotations as `key="value"` lines;
 *   projected   the files of its sources together (configMap, secret, downwardAPI,
 *               serviceAccountToken: the token file, from the issuer hook);
 *   emptyDir    an empty directory, shared by the pod's containers;
 *   persistentVolumeClaim  the directory of the PersistentVolume the claim is bound to
 *               (base/persistent-volume-dir.ts), when the node backs claims (`persistentVolumesDir`).
 * Modes: the item's mode, else the volume's defaultMode, else 0644. A missing optional
 * ConfigMap/Secret (or key) gives no files; a missing required one (or an unbound claim) never
 * gets here (the pod waits in ContainerCreating, volume-sources.ts). Other volume types
 * (hostPath, local, …) are mounted as an empty directory: knet offers no disk of the machine.
 *
 * The kubelet's atomic writer also creates `..data` and `..<timestamp>` entries and makes
 * every key a symlink into them; here the files are plain (`ls -1L` lists the same names).
 * Pure: objects come from the lookup, the token from `token`.
 */
import type { Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { ObjectLookup } from '../runtime/container-env.js';
import { DEFAULT_NODE, fieldRefValue } from '../runtime/container-env.js';
import { resourceFieldValue } from '../runtime/resource-quantity.js';
import { resolveClaim } from '../runtime/claim-volume.js';
import { persistentVolumeDir } from '../../base/persistent-volume-dir.js';

export interface VolumeFile {
  /** Relative to the mount point, e.g. "config/app.yaml". */
  path: string;
  content: Buffer;
  mode: number;
}

export type VolumeContent =
  | { kind: 'files'; files: VolumeFile[] }
  | { kind: 'emptyDir' }
  /** A directory on disk that outlives the pod (a bound claim's PersistentVolume); `readOnly` from the pod's volume. */
  | { kind: 'persistentVolume'; dir: string; readOnly: boolean }
  | { kind: 'unsupported'; type: string };

export interface VolumeContext {
  pod: Pod;
  podIP: string;
  hostIP: string;
  lookup: ObjectLookup;
  /** A service account token for a projected serviceAccountToken source, when the API issues them. */
  token?: (audience: string | undefined, expirationSeconds: number | undefined) => string | undefined;
  /** The cluster's PersistentVolume directories (`<cluster dir>/volumes`); none: a claim's volume is an empty directory. */
  persistentVolumesDir?: string;
}

const DEFAULT_MODE = 0o644;

export function volumeContent(volume: Volume, ctx: VolumeContext): VolumeContent {
  if (volume.emptyDir) return { kind: 'emptyDir' };
  if (volume.persistentVolumeClaim && ctx.persistentVolumesDir) {
    const claim = resolveClaim(ctx.pod, volume, ctx.lookup);
    const dir = claim && 'volumeName' in claim ? persistentVolumeDir(ctx.persistentVolumesDir, claim.volumeName) : undefined;
    if (dir) return { kind: 'persistentVolume', dir, readOnly: !!volume.persistentVolumeClaim.readOnly };
  }
  if (volume.configMap) return { kind: 'files', files: configMapFiles(volume.configMap.name ?? '', volume.configMap.items, volume.configMap.defaultMode, ctx) };
  if (volume.secret) return { kind: 'files', files: secretFiles(volume.secret.secretName ?? '', volume.secret.items, volume.secret.defaultMode, ctx) };
  if (volume.downwardAPI) return { kind: 'files', files: downwardFiles(volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode, ctx) };
  if (volume.projected) {
    const mode = volume.projected.defaultMode;
    const files: VolumeFile[] = [];
    for (const s of volume.projected.sources ?? []) {
      if (s.configMap) files.push(...configMapFiles(s.configMap.name ?? '', s.configMap.items, mode, ctx));
      if (s.secret) files.push(...secretFiles(s.secret.name ?? '', s.secret.items, mode, ctx));
      if (s.downwardAPI) files.push(...downwardFiles(s.downwardAPI.items ?? [], mode, ctx));
      if (s.serviceAccountToken) {
        const token = ctx.token?.(s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds);
        if (token !== undefined) files.push({ path: s.serviceAccountToken.path, content: Buffer.from(token), mode: mode ?? DEFAULT_MODE });
      }
    }
    return { kind: 'files', files };
  }
  const type = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
  return { kind: 'unsupported', type };
}

function configMapFiles(name: string, items: KeyToPath[] | undefined, defaultMode: number | undefined, ctx: VolumeContext): VolumeFile[] {
  const cm = ctx.lookup.configMap(ctx.pod.metadata?.namespace ?? 'default', name);
  if (!cm) return [];
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) data.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) data.set(k, Buffer.from(v, 'base64'));
  return keyFiles(data, items, defaultMode);
}

function secretFiles(name: string, items: KeyToPath[] | undefined, defaultMode: number | undefined, ctx: VolumeContext): VolumeFile[] {
  const secret = ctx.lookup.secret(ctx.pod.metadata?.namespace ?? 'default', name);
  if (!secret) return [];
  const data = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) data.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) data.set(k, Buffer.from(v, 'utf8'));
  return keyFiles(data, items, defaultMode);
}

function keyFiles(data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, ): VolumeFile[] {
  const mode = defaultMode ?? DEFAULT_MODE;
  if (!items || items.length === 0) return [...data].sort(([a], [b]) => a.localeCompare(b)).map(([path, content]) => ({ path, content, mode }));
  const out: VolumeFile[] = [];
  for (const item of items) {
    const content = data.get(item.key);
    if (content !== undefined) out.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return out;
}

function downwardFiles(items: DownwardAPIVolumeFile[], defaultMode: number | undefined, ctx: VolumeContext): VolumeFile[] {
  const out: VolumeFile[] = [];
  for (const item of items) {
    const value = downwardValue(item, ctx);
    if (value !== undefined) out.push({ path: item.path, content: Buffer.from(value), mode: item.mode ?? defaultMode ?? DEFAULT_MODE });
  }
  return out;
}

function downwardValue(item: DownwardAPIVolumeFile, ctx: VolumeContext): string | undefined {
  if (item.fieldRef) {
    const r = fieldRefValue(item.fieldRef.fieldPath, ctx);
    return 'value' in r ? r.value : undefined;
  }
  if (item.resourceFieldRef) {
    const containers: Container[] = [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])];
    const c = containers.find((x) => x.name === item.resourceFieldRef!.containerName) ?? containers[0];
    if (!c) return undefined;
    const r = resourceFieldValue(c, item.resourceFieldRef.resource, item.resourceFieldRef.divisor as string | number | undefined, DEFAULT_NODE);
    return 'value' in r ? r.value : undefined;
  }
  return undefined;
}
