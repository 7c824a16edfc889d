/**
 * Where container logs live, as the kubelet lays out /var/log/pods:
 *
 *   <root>/<namespace>_<pod>_<pod uid>/<container>/<restartCount>.log
 *
 * one file per run of a container (the run's restartCount when it started), and
 * `<restartCount>.log.<YYYYMMDD-hhmmss>` for a run's rotated files. The node agent writes
 * them; the apiserver (`pods/log`) and `knet logs` read them. `root` is the cluster's
 * `logs/pods` in its state dir.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

export interface PodLogRef {
  namespace: string;
  name: string;
  uid: string;
}

export function podLogsDir(root: string, pod: PodLogRef): string {
  return path.join(root, `${pod.namespace}_${pod.name}_${pod.uid}`);
}

export function containerLogsDir(root: string, pod: PodLogRef, container: string): string {
  return path.join(podLogsDir(root, pod), container);
}

/** The file of one run of a container. */
export function runLogFile(containerDir: string, run: number): string {
  return path.join(containerDir, `${run}.log`);
}

/** The runs that have a log file, oldest first (none when the directory does not exist). */
export function loggedRuns(containerDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(containerDir);
  } catch {
    return [];
  }
  const runs: number[] = [];
  for (const n of names) {
    const m = /^(\d+)\.log$/.exec(n);
    if (m) runs.push(Number(m[1]));
  }
  return runs.sort((a, b) => a - b);
}

/** The parts of a pod its log directory is named after. */
export function podLogRef(pod: { metadata?: { namespace?: string; name?: string; uid?: string } }): PodLogRef {
  return { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}
