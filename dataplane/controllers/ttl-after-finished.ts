/**
 * The TTL-after-finished controller (pkg/controller/ttlafterfinished): a Job with
 * `ttlSecondsAfterFinished` is deleted, with its pods, that long after it finished (the
 * lastTransitionTime of its Complete or Failed condition), on the workload clock.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { WorkQueue } from '../base/work-queue.js';
import { ClockRequeue } from './clock-requeue.js';

/** When the Job may be deleted (ms), or undefined: no TTL, or not finished. */
export function ttlExpiry(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata?.deletionTimestamp) return undefined;
  const finished = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const at = Date.parse(finished?.lastTransitionTime ?? '');
  return Number.isFinite(at) ? at + ttl * 1000 : undefined;
}

export function startTTLAfterFinishedController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('ttl-after-finished');
  const jobs = ctx.informers.informer<Job>('Job');
  const queue = new WorkQueue('ttl-after-finished', reconcile, { log, concurrency: 2 });
  const wakeUps = new ClockRequeue(ctx.clock, (k) => queue.add(k));
  const enqueue = (j: Job) => {
    if (ttlExpiry(j) !== undefined) queue.add(key(j));
  };
  const unsubscribe = [jobs.on({ add: enqueue, update: (_o, j) => enqueue(j), delete: (j) => wakeUps.cancel(key(j)) })];

  async function reconcile(k: string): Promise<void> {
    const [ns, name] = k.split('/') as [string, string];
    const job = jobs.get(ns, name);
    const expiry = job && ttlExpiry(job);
    if (!job || expiry === undefined) return;
    const left = expiry - ctx.clock.now();
    if (left > 0) {
      wakeUps.after(k, left + 5);
      return;
    }
    // Read it fresh: the TTL or the Job may have changed since the cache saw it.
    const fresh = await ctx.store.get<Job>('Job', ns, name);
    const freshExpiry = fresh && fresh.metadata?.uid === job.metadata?.uid ? ttlExpiry(fresh) : undefined;
    if (freshExpiry === undefined) return;
    if (freshExpiry > ctx.clock.now()) {
      queue.add(k);
      return;
    }
    log.info('deleting finished Job whose TTL expired', { job: k });
    // Foreground, as upstream's: the Job stays (Terminating) until the garbage collector has deleted its pods.
    await ctx.writes.delete(`ttl/${k}`, 'Job', ns, name, { propagationPolicy: 'Foreground' });
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      wakeUps.close();
      await queue.close();
    },
  };
}
