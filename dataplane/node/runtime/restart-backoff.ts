/**
 * The kubelet's crash back-off (client-go flowcontrol.Backoff as used by doBackOff): per
 * container, keyed by pod and container. The first crash restarts at once and arms the back-off
 * at the base (10 s); a container that exits while its back-off since finishedAt has not elapsed
 * waits (CrashLoopBackOff) and each further restart doubles it up to the cap (300 s). An entry
 * untouched for twice the cap (10 min) starts over. Pure: time is passed in.
 */

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const KUBELET_BACKOFF: BackoffPolicy = { baseMs: 10_000, maxMs: 300_000 };

export interface BackoffEntry {
  backoffMs: number;
  lastUpdate: number;
}

function expired(eventTime: number, entry: BackoffEntry, policy: BackoffPolicy): boolean {
  return eventTime - entry.lastUpdate > 2 * policy.maxMs;
}

/** Milliseconds still to wait before restarting a container that finished at finishedAt (0 = go). */
export function backoffRemaining(entry: BackoffEntry | undefined, finishedAt: number, now: number, policy: BackoffPolicy): number {
  if (!entry || expired(finishedAt, entry, policy)) return 0;
  const left = entry.backoffMs - (now - finishedAt);
  return left > 0 ? left : 0;
}

/** Records a restart (Backoff.Next with eventTime = finishedAt). */
export function nextBackoff(entry: BackoffEntry | undefined, finishedAt: number, now: number, policy: BackoffPolicy): BackoffEntry {
  if (!entry || expired(finishedAt, entry, policy)) return { backoffMs: policy.baseMs, lastUpdate: now };
  return { backoffMs: Math.min(entry.backoffMs * 2, policy.maxMs), lastUpdate: now };
}

/** Go's time.Duration String for whole-ish durations: "10s", "1m20s", "5m0s", "100ms". */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = Number((totalS % 60).toFixed(3));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
