/**
 * A deleted pod's directories go, as the kubelet's garbage collection removes them: its logs
 * (`<logs>/pods/<ns>_<pod>_<uid>/`) and its own directory (`<node>/pods/<uid>/`: programs'
 * volumes, service-account files). Pods deleted while no agent ran are found by what is left.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../base/log.js';
import { podLogsDir } from '../base/container-logs/log-layout.js';

export interface PodDirs {
  /** The cluster's logs/pods. */
  podLogsRoot: string;
  /** `<node state dir>/pods` (none: the node keeps no pod directories). */
  podsDir: string | undefined;
  /** The cluster's PersistentVolume directories (`<cluster dir>/volumes`); never removed with a pod. */
  persistentVolumesDir?: string;
}

/** A deleted pod's logs and volumes; a failure is a warning (the pod is gone either way). */
export function removePodFiles(dirs: PodDirs, ref: { namespace: string; name: string; uid: string }, log: Logger): void {
  if (!ref.uid) return;
  try {
    rmSync(podLogsDir(dirs.podLogsRoot, ref), { recursive: true, force: true });
    if (dirs.podsDir) rmSync(path.join(dirs.podsDir, ref.uid), { recursive: true, force: true });
  } catch (err) {
    log.warn('could not remove a deleted pod\'s logs', { pod: `${ref.namespace}/${ref.name}`, error: err as Error });
  }
}

/** The kubelet's cleanupOrphanedPodDirs: directories of pods deleted while no agent ran (`live`: the uids of this node's pods). */
export function removeOrphanedPodDirs(podsDir: string | undefined, live: Set<string>): void {
  if (!podsDir) return;
  let names: string[] = [];
  try {
    names = readdirSync(podsDir);
  } catch {
    return;
  }
  for (const uid of names) if (!live.has(uid)) rmSync(path.join(podsDir, uid), { recursive: true, force: true });
}
