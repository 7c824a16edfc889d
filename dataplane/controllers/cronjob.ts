/**
 * The CronJob controller's loop (pkg/controller/cronjob, the v2 controller): CronJob → a Job
 * per schedule time, named `<cronjob>-<minutes since the epoch>`, as cronjob-sync.ts decides.
 * Woken by its CronJobs and their Jobs, and on the workload clock at the next schedule time.
 */
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { namespacedKey as key, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf, isControlledBy } from './owner-references.js';
import { controlledBy, indexByOwner } from '../base/informer/indexes.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { StoreError } from '../base/store/errors.js';
import { ClockRequeue } from './clock-requeue.js';
import { jobRef, planCronJobSync } from './cronjob-sync.js';
import { localZone } from '../base/model/cron/time-zone.js';

export function startCronJobController(ctx: ControllerContext): Controller {
  const log = ctx.log.child('cronjob');
  const events = ctx.recorder('cronjob-controller');
  const cronJobs = ctx.informers.informer<CronJob>('CronJob');
  const jobs = indexByOwner(ctx.informers.informer<Job>('Job'));
  const queue = new WorkQueue('cronjob', reconcile, { log, concurrency: 2 });
  const wakeUps = new ClockRequeue(ctx.clock, (k) => queue.add(k));
  const zone = localZone();

  const enqueueOwner = (j: Job) => {
    const ref = controllerRefOf(j);
    if (ref?.kind === 'CronJob') queue.add(`${j.metadata?.namespace}/${ref.name}`);
  };
  const unsubscribe = [
    cronJobs.on({ add: (c) => queue.add(key(c)), update: (_o, c) => queue.add(key(c)), delete: (c) => queue.add(key(c)) }),
    jobs.on({ add: enqueueOwner, update: (_o, j) => enqueueOwner(j), delete: enqueueOwner }),
  ];

  async function reconcile(k: string): Promise<{ requeueAfterMs: number } | undefined> {
    const [ns, name] = k.split('/') as [string, string];
    const cj = cronJobs.get(ns, name);
    const expectKey = `cronjob/${k}`;
    if (!cj) {
      ctx.writes.expectations.forget(expectKey);
      wakeUps.cancel(k);
      return undefined;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const children = controlledBy(jobs, cj);
    // An active Job missing from the cache is confirmed gone by a live read (the watch may lag).
    const gone = new Set<string>();
    for (const ref of cj.status?.active ?? []) {
      if (children.some((j) => j.metadata?.uid === ref.uid)) continue;
      const live = await ctx.store.get<Job>('Job', ns, ref.name ?? '');
      if (!live || live.metadata?.uid !== ref.uid) gone.add(ref.uid ?? '');
    }
    const plan = planCronJobSync({ cj, jobs: children, now: ctx.clock.now(), localZone: zone, gone });
    for (const e of plan.events) events.record(cj, e.type, e.reason, e.message);
    // Background, as upstream's CronJob controller asks: the garbage collector takes the Job's pods.
    for (const j of plan.deleteJobs) await ctx.writes.delete(expectKey, 'Job', ns, j.metadata!.name!, { propagationPolicy: 'Background' });

    const status = plan.status;
    if (plan.create) {
      let created: Job | undefined;
      try {
        created = await ctx.writes.create(expectKey, plan.create.job);
        events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
      } catch (err) {
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) {
          events.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
          throw err;
        }
        // Made by an earlier pass that did not get to write the status: take it into the list.
        const existing = await ctx.store.get<Job>('Job', ns, plan.create.job.metadata!.name!);
        if (existing && isControlledBy(existing, cj)) created = existing;
        else status.lastScheduleTime = cj.status?.lastScheduleTime;
      }
      if (created && !(status.active ?? []).some((r) => r.uid === created!.metadata?.uid)) status.active = [...(status.active ?? []), jobRef(created)];
    }
    if (!sameJson(status, cj.status ?? {})) {
      await ctx.writes.mutate<CronJob>(expectKey, 'CronJob', ns, name, (cur) => (cur.metadata?.uid === cj.metadata?.uid ? { ...cur, status } : undefined), { status: true });
    }
    if (plan.requeueAfterMs !== undefined) wakeUps.after(k, plan.requeueAfterMs);
    return undefined;
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      wakeUps.close();
      await queue.close();
    },
  };
}
