/**
 * `knet logs (POD | TYPE/NAME) [-c CONTAINER] [-f] [-p] [--timestamps] [--tail N] [--since D |
 * --since-time T] [--limit-bytes N]`: a container's log as `kubectl logs` prints it, read from
 * the node agents' CRI log files in the state dir by the same code the apiserver's `pods/log`
 * uses (base/container-logs/). TYPE/NAME of a workload or Service picks one of its pods, and a
 * missing `-c` picks the container, as kubectl does.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerLogsDir, loggedRuns, podLogRef, runLogFile } from '../../base/container-logs/log-layout.js';
import { millisToNanos, parseLogTime } from '../../base/container-logs/cri-log-line.js';
import { readContainerLog, type FollowControl, type ReadLogOptions } from '../../base/container-logs/read-log.js';
import { defaultLogContainer, runIsRunning, selectLogRun } from '../../base/container-logs/log-selection.js';
import { parseGoDuration } from '../../node/runtime/agnhost-image.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';
import { parseResourceArgs } from '../resource-args.js';
import { attachablePod } from '../../base/portforward/select-pod.js';

export interface LogsCommandOptions extends GlobalOptions {
  container?: string;
  follow?: boolean;
  namespace?: string;
  tail?: number;
  previous?: boolean;
  timestamps?: boolean;
  since?: string;
  sinceTime?: string;
  limitBytes?: number;
}

export async function logsCommand(ref: string, opts: LogsCommandOptions, _out: (s: string) => void, write: (chunk: Buffer) => void = (c) => void process.stdout.write(c)): Promise<void> {
  if (ref.includes('/')) parseResourceArgs([ref], 'logs'); // kubectl's errors for a malformed TYPE/NAME
  const read = readOptions(opts);
  const conn = await connect(opts);
  try {
    const ns = opts.namespace ?? 'default';
    // kubectl waits 20 s (--pod-running-timeout) for a workload's pod.
    const pod = ref.includes('/') ? (await attachablePod(conn.store, ns, ref, 20_000)).pod : await conn.store.get<Pod>('Pod', ns, ref);
    if (!pod) throw new Error(`pods "${ref}" not found`);
    const podName = pod.metadata?.name ?? '';
    const chosen = defaultLogContainer(pod, opts.container);
    if (!chosen.ok) throw new Error(chosen.message);
    const { container, notice } = chosen.value;
    if (notice) process.stderr.write(`${notice}\n`);
    // Not scheduled yet: nothing to show (kubectl shows nothing either).
    if (!pod.spec?.nodeName) return;
    const dir = containerLogsDir(conn.clusterDir.podLogsRoot, podLogRef(pod), container);
    const run = selectLogRun(pod, container, !!opts.previous, loggedRuns(dir));
    if (!run.ok) throw new Error(run.message);
    let follow: FollowControl | undefined;
    if (opts.follow) {
      const stop = new AbortController();
      const end = () => stop.abort();
      process.once('SIGINT', end);
      process.once('SIGTERM', end);
      const { containerID } = run.value;
      follow = {
        running: async () => runIsRunning(await conn.store.get<Pod>('Pod', ns, podName), container, containerID),
        signal: stop.signal,
      };
    }
    await readContainerLog(runLogFile(dir, run.value.run), read, write, follow);
  } finally {
    await conn.close();
  }
}

/** kubectl's flags as PodLogOptions, with kubectl's checks. */
export function readOptions(opts: LogsCommandOptions, now = Date.now()): ReadLogOptions {
  if (opts.since !== undefined && opts.sinceTime !== undefined) throw new UsageError('at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (opts.limitBytes !== undefined && opts.limitBytes < 1) throw new UsageError('--limit-bytes must be greater than 0');
  let since: bigint | undefined;
  if (opts.since !== undefined) {
    const ms = parseGoDuration(opts.since);
    if (ms === undefined) throw new UsageError(`invalid argument "${opts.since}" for "--since" flag: time: invalid duration "${opts.since}"`);
    if (ms <= 0) throw new UsageError('--since must be greater than 0');
    // kubectl rounds the duration to whole seconds (PodLogOptions.sinceSeconds).
    since = millisToNanos(now - Math.max(1, Math.round(ms / 1000)) * 1000);
  }
  if (opts.sinceTime !== undefined) {
    since = parseLogTime(opts.sinceTime);
    if (since === undefined) throw new UsageError(`invalid argument "${opts.sinceTime}" for "--since-time" flag: must be an RFC 3339 time`);
  }
  return {
    timestamps: !!opts.timestamps,
    // kubectl's --tail=-1 (its default) means every line.
    ...(opts.tail !== undefined && opts.tail >= 0 ? { tailLines: opts.tail } : {}),
    ...(opts.limitBytes !== undefined ? { limitBytes: opts.limitBytes } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}
