/**
 * The Job controller's pure pass (job-sync.ts): pods to create and delete, the finalizer
 * counting, back-off, deadlines, suspend, Indexed completion, and the 1.32 conditions.
 */
import { describe, expect, it } from 'vitest';
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { planJobSync, type JobSyncInput } from '../../../dataplane/controllers/job-sync.js';
import { backoffRemainingMs, nextBackoffRecord } from '../../../dataplane/controllers/job-backoff.js';
import { firstPendingIndexes, formatIndexes, parseIndexes } from '../../../dataplane/controllers/job-indexes.js';
import { podFromJob, podNameBase } from '../../../dataplane/controllers/job-pods.js';
import { T0, iso } from './fixtures.js';
import { metaTime } from '../../../dataplane/base/model/meta-time.js';

const FINALIZER = 'batch.kubernetes.io/job-tracking';

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status?: JobStatus): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid', creationTimestamp: iso(T0) },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', podReplacementPolicy: 'TerminatingOrFailed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
    ...(status ? { status } : {}),
  };
}

interface P {
  phase?: string;
  tracked?: boolean;
  deleting?: boolean;
  ready?: boolean;
  index?: number;
  restarts?: number;
  finishedAt?: number;
}
function pod(name: string, o: P = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(o.tracked === false ? {} : { finalizers: [FINALIZER] }),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
      ...(o.index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(o.index) } } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready ? [{ type: 'Ready', status: 'True' }] : [],
      containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: !!o.ready, restartCount: o.restarts ?? 0, ...(o.finishedAt ? { state: { terminated: { exitCode: 0, finishedAt: iso(o.finishedAt) } } } : {}) }],
    },
  };
}

const sync = (j: Job, pods: Pod[], more: Partial<JobSyncInput> = {}) => planJobSync({ job: j, pods, now: T0 + 1000, backoff: { failuresAfterLastSuccess: 0 }, ...more });
const conditions = (s: JobStatus) => (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]);

describe('Job pods', () => {
  it('creates up to parallelism, never more than the completions left, and starts the clock', () => {
    const plan = sync(job({ completions: 5, parallelism: 2 }), []);
    expect(plan.create).toEqual([undefined, undefined]);
    expect(plan.status).toEqual({ startTime: metaTime(T0 + 1000), active: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    const nearlyDone = sync(job({ completions: 5, parallelism: 2 }, { succeeded: 4, startTime: iso(T0) }), []);
    expect(nearlyDone.create).toHaveLength(1);
  });

  it('counts a finished pod in two steps: uncounted (and its finalizer released), then the counter', () => {
    const j = job({ completions: 3, parallelism: 2 }, { startTime: iso(T0) });
    const first = sync(j, [pod('a', { phase: 'Succeeded' }), pod('b', { ready: true })]);
    expect(first.status.uncountedTerminatedPods).toEqual({ succeeded: ['uid-a'] });
    expect(first.releaseFinalizers.map((p) => p.metadata!.name)).toEqual(['a']);
    expect(first.create).toHaveLength(1);
    expect(first.status).toMatchObject({ active: 2, ready: 1 });
    const second = sync({ ...j, status: first.status }, [pod('a', { phase: 'Succeeded', tracked: false }), pod('b', { ready: true }), pod('c')]);
    expect(second.status).toMatchObject({ succeeded: 1, uncountedTerminatedPods: {} });
    expect(second.create).toEqual([]);
  });

  it('completes with SuccessCriteriaMet then Complete (CompletionsReached), completionTime and a Completed event', () => {
    const j = job({ completions: 2, parallelism: 2 }, { startTime: iso(T0), succeeded: 1, uncountedTerminatedPods: { succeeded: ['uid-b'] } });
    const plan = sync(j, [pod('a', { phase: 'Succeeded', tracked: false }), pod('b', { phase: 'Succeeded', tracked: false })]);
    expect(plan.status.succeeded).toBe(2);
    expect(conditions(plan.status)).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    expect(plan.status.conditions![1]!.message).toBe('Reached expected number of succeeded pods');
    expect(plan.status.completionTime).toBe(metaTime(T0 + 1000));
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'Completed', message: 'Job completed' }]);
    expect(plan.status.active).toBeUndefined();
  });

  it('a work-queue Job (no completions) is done once one pod succeeded and none runs', () => {
    const j = job({ completions: undefined, parallelism: 3 }, { startTime: iso(T0), succeeded: 1 });
    expect(sync(j, [pod('b')]).create).toEqual([]);
    expect(conditions(sync(j, []).status)).toContainEqual(['Complete', 'True', 'CompletionsReached']);
  });
});

describe('Job failure', () => {
  it('replaces a failed pod after the back-off (10 s, doubling), counting it failed', () => {
    const j = job({ completions: 1, backoffLimit: 3 }, { startTime: iso(T0) });
    const plan = sync(j, [pod('a', { phase: 'Failed' })]);
    expect(plan.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a'] });
    expect(plan.backoff).toEqual({ failuresAfterLastSuccess: 1, lastFailureAt: T0 + 1000 });
    expect(plan.create).toEqual([]);
    expect(plan.requeueAfterMs).toBe(10_000);
    const later = sync({ ...j, status: plan.status }, [pod('a', { phase: 'Failed', tracked: false })], { backoff: plan.backoff, now: T0 + 11_001 });
    expect(later.create).toHaveLength(1);
    expect(later.status.failed).toBe(1);
    expect(backoffRemainingMs({ failuresAfterLastSuccess: 3, lastFailureAt: 0 }, 5_000)).toBe(35_000);
    expect(backoffRemainingMs({ failuresAfterLastSuccess: 12, lastFailureAt: 0 }, 0)).toBe(360_000);
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 2, lastFailureAt: 1 }, [100], [50], 200)).toEqual({ failuresAfterLastSuccess: 0 });
    expect(nextBackoffRecord({ failuresAfterLastSuccess: 0 }, [100], [50, 150], 200)).toEqual({ failuresAfterLastSuccess: 1, lastFailureAt: 200 });
  });

  it('fails past backoffLimit: FailureTarget, the running pods deleted, then Failed once they are gone', () => {
    const j = job({ completions: 3, parallelism: 2, backoffLimit: 1 }, { startTime: iso(T0), failed: 1 });
    const plan = sync(j, [pod('a', { phase: 'Failed' }), pod('b', { ready: true })]);
    expect(conditions(plan.status)).toEqual([['FailureTarget', 'True', 'BackoffLimitExceeded']]);
    expect(plan.delete.map((p) => p.metadata!.name)).toEqual(['b']);
    expect(plan.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a', 'uid-b'] });
    expect(plan.status.terminating).toBe(1);
    expect(plan.create).toEqual([]);
    const done = sync({ ...j, status: plan.status }, [pod('a', { phase: 'Failed', tracked: false })]);
    expect(done.status.failed).toBe(3);
    expect(conditions(done.status)).toEqual([
      ['FailureTarget', 'True', 'BackoffLimitExceeded'],
      ['Failed', 'True', 'BackoffLimitExceeded'],
    ]);
    expect(done.events).toEqual([{ type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]);
    expect(done.status.completionTime).toBeUndefined();
  });

  it('fails OnFailure pods by their restarts', () => {
    const j = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } }, { startTime: iso(T0) });
    expect(conditions(sync(j, [pod('a', { restarts: 1 })]).status)).toEqual([]);
    expect(conditions(sync(j, [pod('a', { restarts: 2 })]).status)).toEqual([['FailureTarget', 'True', 'BackoffLimitExceeded']]);
  });

  it('fails at activeDeadlineSeconds, and wakes up for it before', () => {
    const j = job({ activeDeadlineSeconds: 10 }, { startTime: iso(T0) });
    expect(sync(j, [pod('a')], { now: T0 + 4000 }).requeueAfterMs).toBe(6000);
    const plan = sync(j, [pod('a')], { now: T0 + 10_000 });
    expect(conditions(plan.status)).toEqual([['FailureTarget', 'True', 'DeadlineExceeded']]);
    expect(plan.status.conditions![0]!.message).toBe('Job was active longer than specified deadline');
    expect(plan.delete).toHaveLength(1);
  });

  it('a deleted running pod counts as failed and is replaced at once, seen or lost', () => {
    const j = job({ completions: 1 }, { startTime: iso(T0) });
    const seen = sync(j, [pod('a', { deleting: true })]);
    expect(seen.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a'] });
    expect(seen.status.terminating).toBe(1);
    const lost = sync(j, [], { lost: new Map([['uid-a', 'Failed']]) });
    expect(lost.status.failed).toBe(1);
  });
});

describe('suspend', () => {
  it('deletes the active pods and says Suspended; resuming restarts the clock', () => {
    const j = job({ suspend: true }, { startTime: iso(T0) });
    const plan = sync(j, [pod('a')]);
    expect(plan.delete).toHaveLength(1);
    expect(conditions(plan.status)).toEqual([['Suspended', 'True', 'JobSuspended']]);
    expect(plan.events).toEqual([{ type: 'Normal', reason: 'Suspended', message: 'Job suspended' }]);
    const resumed = sync({ ...j, spec: { ...j.spec!, suspend: false }, status: plan.status }, [], { now: T0 + 50_000 });
    expect(conditions(resumed.status)).toEqual([['Suspended', 'False', 'JobResumed']]);
    expect(resumed.status.startTime).toBe(metaTime(T0 + 50_000));
    expect(resumed.create).toHaveLength(1);
  });
});

describe('Indexed Jobs', () => {
  it('creates the lowest pending indexes and records succeeded ones in completedIndexes', () => {
    const j = job({ completionMode: 'Indexed', completions: 4, parallelism: 2 }, { startTime: iso(T0) });
    expect(sync(j, []).create).toEqual([0, 1]);
    const plan = sync(j, [pod('a', { index: 0, phase: 'Succeeded' }), pod('b', { index: 1 })]);
    expect(plan.create).toEqual([2]);
    expect(plan.status).toMatchObject({ completedIndexes: '0', succeeded: 1 });
    // A second pod for index 1 is removed.
    const dup = sync(j, [pod('b', { index: 1 }), pod('c', { index: 1, ready: true })]);
    expect(dup.delete.map((p) => p.metadata!.name)).toEqual(['b']);
  });

  it('names and labels index pods as upstream', () => {
    const j = job({ completionMode: 'Indexed', completions: 3 });
    const p = podFromJob(j, 2);
    expect(p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(p.metadata!.labels!['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(p.metadata!.finalizers).toEqual([FINALIZER]);
    expect(p.spec!.hostname).toBe('pi-2');
    expect(p.spec!.containers[0]!.env).toEqual([{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } }]);
    expect(p.metadata!.ownerReferences![0]).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', controller: true });
    expect(podNameBase(j, 2)).toBe('pi-2');
    expect(podNameBase(j)).toBe('pi');
  });

  it('formats and parses completedIndexes as upstream ("1,3-5,7")', () => {
    expect(formatIndexes([7, 1, 3, 4, 5])).toBe('1,3-5,7');
    expect(formatIndexes([0, 1])).toBe('0,1');
    expect([...parseIndexes('1,3-5,7', 6)]).toEqual([1, 3, 4, 5]);
    expect(firstPendingIndexes(5, new Set([0]), new Set([1, 3]), 2)).toEqual([2, 4]);
  });
});
