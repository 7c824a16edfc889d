/**
 * A Job's podFailurePolicy, successPolicy and backoffLimitPerIndex (job-failure-policy.ts,
 * job-success-policy.ts, job-failed-indexes.ts) and how planJobSync acts on them — cases from
 * upstream's pod_failure_policy_test.go, success_policy_test.go and job_controller_test.go.
 */
import { describe, expect, it } from 'vitest';
import type { Job, JobStatus, PodFailurePolicy, SuccessPolicy } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { matchPodFailurePolicy } from '../../../dataplane/controllers/job-failure-policy.js';
import { matchSuccessPolicy } from '../../../dataplane/controllers/job-success-policy.js';
import { calculateFailedIndexes, indexFailureAnnotations } from '../../../dataplane/controllers/job-failed-indexes.js';
import { planJobSync, type JobSyncInput } from '../../../dataplane/controllers/job-sync.js';
import { T0, iso } from './fixtures.js';

const FINALIZER = 'batch.kubernetes.io/job-tracking';
const FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';

interface P {
  phase?: string;
  exit?: number;
  container?: string;
  init?: boolean;
  conditions?: PodCondition[];
  index?: number;
  failures?: number;
  tracked?: boolean;
}
function pod(name: string, o: P = {}): Pod {
  const cs: ContainerStatus = {
    name: o.container ?? 'main-container',
    image: 'busybox',
    imageID: '',
    ready: false,
    restartCount: 0,
    state: o.exit === undefined ? { running: {} } : { terminated: { exitCode: o.exit, finishedAt: iso(T0) } },
  };
  const annotations = {
    ...(o.index !== undefined ? { 'batch.kubernetes.io/job-completion-index': String(o.index) } : {}),
    ...(o.failures !== undefined ? { [FAILURE_COUNT]: String(o.failures) } : {}),
  };
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations, ...(o.tracked === false ? {} : { finalizers: [FINALIZER] }) },
    spec: { containers: [{ name: 'main-container', image: 'busybox' }] },
    status: { phase: o.phase ?? (o.exit === undefined ? 'Running' : o.exit === 0 ? 'Succeeded' : 'Failed'), conditions: o.conditions ?? [], ...(o.init ? { initContainerStatuses: [cs] } : { containerStatuses: [cs] }) },
  };
}

function job(spec: Partial<NonNullable<Job['spec']>> = {}, status?: JobStatus): Job {
  return {
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', podReplacementPolicy: 'Failed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main-container', image: 'busybox' }] } }, ...spec },
    status: { startTime: iso(T0), ...status },
  };
}
const sync = (j: Job, pods: Pod[], more: Partial<JobSyncInput> = {}) => planJobSync({ job: j, pods, now: T0 + 1000, backoff: { failuresAfterLastSuccess: 0 }, ...more });
const conditions = (s: JobStatus) => (s.conditions ?? []).map((c) => [c.type, c.reason, c.message]);

const exitRule = (action: string, operator: 'In' | 'NotIn', values: number[], containerName?: string): PodFailurePolicy['rules'][number] => ({ action, onExitCodes: { operator, values, ...(containerName ? { containerName } : {}) } });
const disruption: PodCondition = { type: 'DisruptionTarget', status: 'True' };

describe('matchPodFailurePolicy', () => {
  const cases: Array<{ name: string; rules: PodFailurePolicy['rules']; pod: Pod; want: ReturnType<typeof matchPodFailurePolicy> }> = [
    {
      name: 'FailJob on an exit code In the list',
      rules: [exitRule('FailJob', 'In', [1, 2, 3])],
      pod: pod('mypod', { exit: 2 }),
      want: { countFailed: true, action: 'FailJob', failJobMessage: 'Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 0' },
    },
    { name: 'an exit code not In the list does not match', rules: [exitRule('FailJob', 'In', [1, 2, 3])], pod: pod('mypod', { exit: 4 }), want: { countFailed: true } },
    { name: 'NotIn matches another non-zero code', rules: [exitRule('Ignore', 'NotIn', [1, 2, 3])], pod: pod('mypod', { exit: 42 }), want: { countFailed: false, action: 'Ignore' } },
    { name: 'exit code 0 never matches, even NotIn', rules: [exitRule('FailJob', 'NotIn', [1])], pod: pod('mypod', { exit: 0, phase: 'Failed' }), want: { countFailed: true } },
    { name: 'a container that did not terminate has no exit code', rules: [exitRule('FailJob', 'NotIn', [1])], pod: pod('mypod', { phase: 'Failed' }), want: { countFailed: true } },
    { name: 'containerName restricts the rule', rules: [exitRule('FailJob', 'In', [5], 'other')], pod: pod('mypod', { exit: 5 }), want: { countFailed: true } },
    {
      name: 'init containers are looked at too',
      rules: [exitRule('FailJob', 'In', [5], 'init-container')],
      pod: pod('mypod', { exit: 5, init: true, container: 'init-container' }),
      want: { countFailed: true, action: 'FailJob', failJobMessage: 'Container init-container for pod default/mypod failed with exit code 5 matching FailJob rule at index 0' },
    },
    { name: 'Count counts', rules: [exitRule('Count', 'In', [5])], pod: pod('mypod', { exit: 5 }), want: { countFailed: true, action: 'Count' } },
    { name: 'FailIndex counts and names its action', rules: [exitRule('FailIndex', 'In', [5])], pod: pod('mypod', { exit: 5 }), want: { countFailed: true, action: 'FailIndex' } },
    { name: 'the first matching rule wins', rules: [exitRule('Ignore', 'In', [5]), exitRule('FailJob', 'In', [5])], pod: pod('mypod', { exit: 5 }), want: { countFailed: false, action: 'Ignore' } },
    {
      name: 'a later rule when the first does not match',
      rules: [exitRule('Ignore', 'In', [1]), exitRule('FailJob', 'In', [5])],
      pod: pod('mypod', { exit: 5 }),
      want: { countFailed: true, action: 'FailJob', failJobMessage: 'Container main-container for pod default/mypod failed with exit code 5 matching FailJob rule at index 1' },
    },
    { name: 'Ignore on the DisruptionTarget condition', rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }], pod: pod('mypod', { exit: 137, conditions: [disruption] }), want: { countFailed: false, action: 'Ignore' } },
    {
      name: 'FailJob on a pod condition',
      rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
      pod: pod('mypod', { exit: 137, conditions: [disruption] }),
      want: { countFailed: true, action: 'FailJob', failJobMessage: 'Pod default/mypod has condition DisruptionTarget matching FailJob rule at index 0' },
    },
    { name: "a condition's status must match", rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget', status: 'False' }] }], pod: pod('mypod', { exit: 137, conditions: [disruption] }), want: { countFailed: true } },
  ];
  for (const c of cases) it(c.name, () => expect(matchPodFailurePolicy({ rules: c.rules }, c.pod)).toEqual(c.want));
  it('no policy: every failure counts', () => expect(matchPodFailurePolicy(undefined, pod('p', { exit: 1 }))).toEqual({ countFailed: true }));
});

describe('matchSuccessPolicy', () => {
  const rules = (...r: SuccessPolicy['rules']): SuccessPolicy => ({ rules: r });
  const cases: Array<[string, SuccessPolicy | undefined, number[], string | undefined]> = [
    ['no policy', undefined, [0, 1], undefined],
    ['nothing succeeded yet', rules({ succeededCount: 1 }), [], undefined],
    ['succeededIndexes all succeeded', rules({ succeededIndexes: '0-2' }), [0, 1, 2, 4], 'Matched rules at index 0'],
    ['succeededIndexes not all succeeded', rules({ succeededIndexes: '0-2' }), [0, 2, 4], undefined],
    ['succeededIndexes with succeededCount', rules({ succeededIndexes: '0-2', succeededCount: 2 }), [0, 2], 'Matched rules at index 0'],
    ['succeededCount alone', rules({ succeededCount: 3 }), [1, 4, 6], 'Matched rules at index 0'],
    ['succeededCount not reached', rules({ succeededCount: 3 }), [1, 4], undefined],
    ['a rule past completions is skipped, the next matches', rules({ succeededIndexes: '9' }, { succeededIndexes: '1,3' }), [1, 3], 'Matched rules at index 1'],
  ];
  for (const [name, policy, succeeded, want] of cases) it(name, () => expect(matchSuccessPolicy(policy, 8, new Set(succeeded))).toBe(want));
});

describe('podFailurePolicy in the sync', () => {
  const policy: PodFailurePolicy = { rules: [exitRule('FailJob', 'In', [3]), { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] };

  it('FailJob: FailureTarget (PodFailurePolicy, upstream message), the others deleted, then Failed', () => {
    const j = job({ completions: 3, parallelism: 2, podFailurePolicy: policy });
    const plan = sync(j, [pod('a', { exit: 3 }), pod('b')]);
    const message = 'Container main-container for pod default/a failed with exit code 3 matching FailJob rule at index 0';
    expect(conditions(plan.status)).toEqual([['FailureTarget', 'PodFailurePolicy', message]]);
    expect(plan.delete.map((p) => p.metadata!.name)).toEqual(['b']);
    expect(plan.create).toEqual([]);
    const done = sync({ ...j, status: plan.status }, [pod('a', { exit: 3, tracked: false })]);
    expect(conditions(done.status)).toEqual([
      ['FailureTarget', 'PodFailurePolicy', message],
      ['Failed', 'PodFailurePolicy', message],
    ]);
    expect(done.events).toEqual([{ type: 'Warning', reason: 'PodFailurePolicy', message }]);
  });

  it('Ignore: the failure counts neither in status.failed nor toward backoffLimit; the pod is replaced', () => {
    const j = job({ backoffLimit: 0, podFailurePolicy: policy });
    const plan = sync(j, [pod('a', { exit: 137, conditions: [disruption] })]);
    expect(conditions(plan.status)).toEqual([]);
    expect(plan.status.uncountedTerminatedPods).toEqual({});
    expect(plan.releaseFinalizers.map((p) => p.metadata!.name)).toEqual(['a']);
    const next = sync({ ...j, status: plan.status }, [pod('a', { exit: 137, conditions: [disruption], tracked: false })], { backoff: plan.backoff, now: T0 + 60_000 });
    expect(next.status.failed).toBeUndefined();
    expect(next.create).toHaveLength(1);
  });

  it('a failure no rule matches counts as usual (backoffLimit 0 fails the Job)', () => {
    const plan = sync(job({ backoffLimit: 0, podFailurePolicy: policy }), [pod('a', { exit: 1 })]);
    expect(conditions(plan.status)).toEqual([['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']]);
    expect(plan.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a'] });
  });
});

describe('successPolicy in the sync', () => {
  it('SuccessCriteriaMet (SuccessPolicy) once the rule is met, the rest deleted, then Complete', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededIndexes: '0' }] } });
    const plan = sync(j, [pod('a', { index: 0, exit: 0 }), pod('b', { index: 1 }), pod('c', { index: 2 })]);
    expect(conditions(plan.status)).toEqual([['SuccessCriteriaMet', 'SuccessPolicy', 'Matched rules at index 0']]);
    expect(plan.delete.map((p) => p.metadata!.name).sort()).toEqual(['b', 'c']);
    expect(plan.status).toMatchObject({ completedIndexes: '0', succeeded: 1, terminating: 2 });
    expect(plan.status.uncountedTerminatedPods).toEqual({});
    expect(plan.releaseFinalizers.map((p) => p.metadata!.name).sort()).toEqual(['a', 'b', 'c']);
    const done = sync({ ...j, status: plan.status }, [pod('a', { index: 0, exit: 0, tracked: false })]);
    expect(conditions(done.status)).toEqual([
      ['SuccessCriteriaMet', 'SuccessPolicy', 'Matched rules at index 0'],
      ['Complete', 'SuccessPolicy', 'Matched rules at index 0'],
    ]);
    expect(done.status.completionTime).toBeDefined();
    expect(done.status.failed).toBeUndefined();
  });

  it('not met: the Job goes on', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededCount: 2 }] } });
    const plan = sync(j, [pod('a', { index: 0, exit: 0 }), pod('b', { index: 1 }), pod('c', { index: 2 })]);
    expect(conditions(plan.status)).toEqual([]);
    expect(plan.delete).toEqual([]);
  });
});

describe('backoffLimitPerIndex in the sync', () => {
  const perIndex = (more: Partial<NonNullable<Job['spec']>> = {}, status?: JobStatus) => job({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimit: 2147483647, backoffLimitPerIndex: 1, ...more }, status);

  it('a failed pod keeps its finalizer until its replacement carries the failure count', () => {
    const j = perIndex();
    const failed = pod('a', { index: 0, exit: 1, failures: 0 });
    const plan = sync(j, [failed, pod('b', { index: 1, failures: 0 }), pod('c', { index: 2, failures: 0 })]);
    expect(plan.releaseFinalizers).toEqual([]);
    expect(plan.status.failedIndexes).toBe('');
    // Its index backs off on its own (10 s for the first failure), then is recreated with the count.
    expect(plan.create).toEqual([]);
    expect(plan.requeueAfterMs).toBe(10_000);
    const later = sync({ ...j, status: plan.status }, [failed, pod('b', { index: 1 }), pod('c', { index: 2 })], { backoff: plan.backoff, now: T0 + 11_001 });
    expect(later.create).toEqual([0]);
    expect(later.createAnnotations).toEqual({ 0: { [FAILURE_COUNT]: '1' } });
    // Once the replacement is active the failed pod is counted and let go.
    const after = sync({ ...j, status: later.status }, [failed, pod('a2', { index: 0, failures: 1 }), pod('b', { index: 1 }), pod('c', { index: 2 })]);
    expect(after.status.uncountedTerminatedPods).toEqual({ failed: ['uid-a'] });
    expect(after.releaseFinalizers.map((p) => p.metadata!.name)).toEqual(['a']);
  });

  it('an index past its limit is failed (status.failedIndexes); the Job fails with FailedIndexes once the others end', () => {
    const j = perIndex();
    const plan = sync(j, [pod('a', { index: 0, exit: 1, failures: 1 }), pod('b', { index: 1, exit: 0 }), pod('c', { index: 2 })]);
    expect(plan.status.failedIndexes).toBe('0');
    expect(plan.create).toEqual([]);
    expect(conditions(plan.status)).toEqual([]);
    const end = sync({ ...j, status: plan.status }, [pod('a', { index: 0, exit: 1, failures: 1, tracked: false }), pod('b', { index: 1, exit: 0, tracked: false }), pod('c', { index: 2, exit: 0 })]);
    expect(end.status).toMatchObject({ failedIndexes: '0', completedIndexes: '1,2' });
    // Nothing left uncounted or terminating: Failed in the same pass, as upstream's enactJobFinished.
    expect(conditions(end.status)).toEqual([
      ['FailureTarget', 'FailedIndexes', 'Job has failed indexes'],
      ['Failed', 'FailedIndexes', 'Job has failed indexes'],
    ]);
  });

  it('maxFailedIndexes exceeded fails the Job at once (MaxFailedIndexesExceeded)', () => {
    const plan = sync(perIndex({ maxFailedIndexes: 0 }), [pod('a', { index: 0, exit: 1, failures: 1 }), pod('b', { index: 1 }), pod('c', { index: 2 })]);
    expect(conditions(plan.status)).toEqual([['FailureTarget', 'MaxFailedIndexesExceeded', 'Job has exceeded the specified maximal number of failed indexes']]);
    expect(plan.delete.map((p) => p.metadata!.name).sort()).toEqual(['b', 'c']);
  });

  it('a FailIndex rule fails the index on its first failure', () => {
    const j = perIndex({ backoffLimitPerIndex: 3, podFailurePolicy: { rules: [exitRule('FailIndex', 'In', [42])] } });
    expect(sync(j, [pod('a', { index: 0, exit: 42, failures: 0 }), pod('b', { index: 1 }), pod('c', { index: 2 })]).status.failedIndexes).toBe('0');
  });

  it('calculateFailedIndexes keeps the recorded ones; a replacement counts ignored failures apart', () => {
    const j = perIndex({ completions: 5 }, { failedIndexes: '3' });
    expect([...calculateFailedIndexes(j, [pod('a', { index: 1, exit: 1, failures: 1 }), pod('b', { index: 2, exit: 1, failures: 0 })])].sort()).toEqual([1, 3]);
    const ignoring = perIndex({ podFailurePolicy: { rules: [exitRule('Ignore', 'In', [137])] } });
    expect(indexFailureAnnotations(ignoring, pod('a', { index: 0, exit: 137, failures: 2 }))).toEqual({ [FAILURE_COUNT]: '2', 'batch.kubernetes.io/job-index-ignored-failure-count': '1' });
    expect(indexFailureAnnotations(ignoring, undefined)).toEqual({ [FAILURE_COUNT]: '0' });
  });
});
