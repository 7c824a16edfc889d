/**
 * The Job controller's loop (pkg/controller/job): Job → pods `<job>-xxxxx` (Indexed:
 * `<job>-<index>-xxxxx`) until enough succeed or it fails, as job-sync.ts decides; status and
 * events as upstream. Woken by its Jobs and their pods, and on the workload clock for
 * activeDeadlineSeconds and the pod-failure back-off. A Job's pods are read through the
 * owner-UID index.
 *
 * Orphan pods (upstream's syncOrphanPod): a pod that still carries the tracking finalizer but
 * whose Job is gone (or finished) has the finalizer taken off, else its deletion — by the
 * garbage collector after the Job's, or by the namespace controller — would wait forever.
 */
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { namespacedKey as key, forEachLimited, type Controller, type ControllerContext } from './controller-context.js';
import { controllerRefOf } from './owner-references.js';
import { indexByOwner } from '../base/informer/indexes.js';
import { isJobFinished } from './job-sync.js';
import { podsControlledBy } from './pod-template.js';
import { sameJson } from './canonical-json.js';
import { WorkQueue } from '../base/work-queue.js';
import { ClockRequeue } from './clock-requeue.js';
import { planJobSync } from './job-sync.js';
import { hasTrackingFinalizer, podFromJob, podNameBase } from './job-pods.js';
import { DEFAULT_JOB_BACKOFF_MS, type BackoffRecord } from './job-backoff.js';
import { FINALIZER_JOB_TRACKING } from '../base/model/well-known.js';

export interface JobControllerOptions {
  /** The first back-off before failed pods are replaced (10 s in Kubernetes; tests shorten it). */
  backoffBaseMs?: number;
}

export function startJobController(ctx: ControllerContext, opts: JobControllerOptions = {}): Controller {
  const log = ctx.log.child('job');
  const events = ctx.recorder('job-controller');
  const jobs = ctx.informers.informer<Job>('Job');
  const pods = indexByOwner(ctx.informers.informer<Pod>('Pod'));
  const queue = new WorkQueue('job', reconcile, { log, concurrency: 4 });
  const orphans = new WorkQueue('job-orphan-pods', releaseOrphan, { log, concurrency: 4 });
  const wakeUps = new ClockRequeue(ctx.clock, (k) => queue.add(k));
  /** Pods seen deleted while still uncounted, per Job key. */
  const lost = new Map<string, Map<string, 'Succeeded' | 'Failed'>>();
  const backoffs = new Map<string, BackoffRecord>();

  const ownerKey = (p: Pod) => {
    const ref = controllerRefOf(p);
    return ref?.kind === 'Job' && ref.apiVersion?.startsWith('batch/') ? `${p.metadata?.namespace}/${ref.name}` : undefined;
  };
  /** The pod's Job as the cache has it (same uid), if its controller is a Job. */
  const jobOf = (p: Pod) => {
    const ref = controllerRefOf(p);
    const job = ref?.kind === 'Job' && ref.apiVersion?.startsWith('batch/') ? jobs.get(p.metadata?.namespace, ref.name) : undefined;
    return job?.metadata?.uid === ref?.uid ? job : undefined;
  };
  const enqueueOwner = (p: Pod) => {
    const k = ownerKey(p);
    if (k) queue.add(k);
    if (hasTrackingFinalizer(p) && !jobOf(p)) orphans.add(key(p));
  };
  const unsubscribe = [
    jobs.on({
      add: (j) => queue.add(key(j)),
      update: (_o, j) => queue.add(key(j)),
      delete: (j) => {
        queue.add(key(j));
        // Its pods keep their finalizer: let them go (the garbage collector deletes them).
        for (const p of podsControlledBy(pods, j)) if (hasTrackingFinalizer(p)) orphans.add(key(p));
      },
    }),
    pods.on({
      add: enqueueOwner,
      update: (_o, p) => enqueueOwner(p),
      delete: (p) => {
        const k = ownerKey(p);
        if (!k) return;
        if (hasTrackingFinalizer(p)) {
          const m = lost.get(k) ?? new Map<string, 'Succeeded' | 'Failed'>();
          m.set(p.metadata!.uid!, p.status?.phase === 'Succeeded' ? 'Succeeded' : 'Failed');
          lost.set(k, m);
        }
        queue.add(k);
      },
    }),
  ];

  async function reconcile(k: string) {
    const [ns, name] = k.split('/') as [string, string];
    const job = jobs.get(ns, name);
    const expectKey = `job/${k}`;
    if (!job) {
      ctx.writes.expectations.forget(expectKey);
      lost.delete(k);
      backoffs.delete(k);
      wakeUps.cancel(k);
      return;
    }
    if (!ctx.writes.expectations.satisfied(expectKey)) return { requeueAfterMs: ctx.writes.expectations.remainingMs(expectKey) + 10 };
    const owned = podsControlledBy(pods, job);
    const lostNow = new Map(lost.get(k) ?? []);
    const plan = planJobSync({ job, pods: owned, now: ctx.clock.now(), lost: lostNow, backoff: backoffs.get(k) ?? { failuresAfterLastSuccess: 0 }, backoffBaseMs: opts.backoffBaseMs ?? DEFAULT_JOB_BACKOFF_MS });
    if (job.metadata?.deletionTimestamp) {
      plan.create = [];
      plan.delete = [];
    }

    // The status first: what it records as uncounted is what lets the finalizers go.
    if (!sameJson(plan.status, job.status ?? {})) {
      const written = await ctx.writes.mutate<Job>(expectKey, 'Job', ns, name, (cur) => (cur.metadata?.uid === job.metadata?.uid ? { ...cur, status: plan.status } : undefined), { status: true });
      if (!written) return;
    }
    backoffs.set(k, plan.backoff);
    const forgotten = lost.get(k);
    for (const uid of lostNow.keys()) forgotten?.delete(uid);
    for (const e of plan.events) events.record(job, e.type, e.reason, e.message);

    // Through admission's update: a pod being deleted that waited only for this finalizer goes.
    await forEachLimited(plan.releaseFinalizers, 50, (p) => ctx.writes.removeFinalizer(expectKey, 'Pod', ns, p.metadata!.name!, FINALIZER_JOB_TRACKING, p.metadata?.uid));
    await forEachLimited(plan.delete, 50, async (p) => {
      await ctx.writes.delete(expectKey, 'Pod', ns, p.metadata!.name!);
      events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
    });
    let failure: Error | undefined;
    await forEachLimited(plan.create, 50, async (index) => {
      const pod = await ctx.writes.createGenerated(expectKey, podNameBase(job, index), podFromJob(job, index, index === undefined ? undefined : plan.createAnnotations?.[index]));
      events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata?.name}`);
    }).catch((err: Error) => {
      failure = err;
      events.record(job, 'Warning', 'FailedCreate', `Error creating: ${err.message}`);
    });
    if (failure) throw failure;
    if (plan.requeueAfterMs !== undefined) wakeUps.after(k, plan.requeueAfterMs + 5);
    return undefined;
  }

  /** Takes the tracking finalizer off a pod whose Job is gone or finished (not one still running: that Job counts it first). */
  async function releaseOrphan(k: string): Promise<void> {
    const [ns, name] = k.split('/') as [string, string];
    const pod = pods.get(ns, name);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = controllerRefOf(pod);
    // Controlled by something else than a batch/v1 Job: not ours to let go.
    if (ref && (ref.kind !== 'Job' || !ref.apiVersion?.startsWith('batch/'))) return;
    const job = jobOf(pod);
    if (job && !isJobFinished(job)) return;
    await ctx.writes.removeFinalizer(`job-orphan/${k}`, 'Pod', ns, name, FINALIZER_JOB_TRACKING, pod.metadata?.uid);
  }

  return {
    async close() {
      for (const u of unsubscribe) u();
      wakeUps.close();
      await Promise.all([queue.close(), orphans.close()]);
    },
  };
}
