/**
 * Jobs and CronJobs through defaulting, validation and the create-time selector: what the
 * apiserver (1.32) stores and the errors kubectl prints.
 */
import { describe, expect, it } from 'vitest';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { generateJobSelector } from '../../../dataplane/base/model/defaults/batch.js';
import { validateUpdate } from '../../../dataplane/base/model/validate/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { messages, podSpec } from './manifests.js';

type Json = Record<string, unknown>;

const job = (spec: Json = {}, metadata: Json = {}): KObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'pi', ...metadata },
  spec: { template: { spec: podSpec({ restartPolicy: 'Never' }) }, ...spec },
});

const cronJob = (spec: Json = {}, metadata: Json = {}): KObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'tick', ...metadata },
  spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: podSpec({ restartPolicy: 'OnFailure' }) } } }, ...spec },
});

/** A Job as the store keeps it after create: defaulted, then its selector generated with this uid. */
function created(o: KObject, uid = 'uid-1'): Job {
  const j = applyDefaults(o) as Json;
  (j.metadata as Json).uid = uid;
  generateJobSelector(j);
  return j as Job;
}

describe('Job defaults and the generated selector', () => {
  it('defaults counts, back-off, mode, suspend, replacement policy and manualSelector (1.32)', () => {
    const j = applyDefaults(job()) as Job;
    expect(j.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed', manualSelector: false });
    expect(j.spec?.template.spec?.restartPolicy).toBe('Never');
    const parallel = applyDefaults(job({ parallelism: 3 })) as Job;
    expect(parallel.spec?.completions).toBeUndefined();
    expect(parallel.spec?.parallelism).toBe(3);
    expect((applyDefaults(job({ podFailurePolicy: { rules: [] } })) as Job).spec?.podReplacementPolicy).toBe('Failed');
  });

  it('generates the selector and the job-name/controller-uid labels, which the Job takes too', () => {
    const j = created(job());
    const labels = { 'batch.kubernetes.io/controller-uid': 'uid-1', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'uid-1', 'job-name': 'pi' };
    expect(j.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-1' } });
    expect(j.spec?.template.metadata?.labels).toEqual(labels);
    expect(j.metadata?.labels).toEqual(labels);
    // Idempotent, and valid as stored (an update validates the stored selector).
    expect(messages(applyDefaults(j as KObject))).toEqual([]);
    const own = created(job({ template: { metadata: { labels: { app: 'pi' } }, spec: podSpec({ restartPolicy: 'Never' }) } }, { labels: { team: 'a' } }));
    expect(own.metadata?.labels).toEqual({ team: 'a' });
    expect(own.spec?.template.metadata?.labels).toMatchObject({ app: 'pi', 'job-name': 'pi' });
  });

  it('leaves a manual selector alone', () => {
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: podSpec({ restartPolicy: 'Never' }) } });
    const j = created(manual);
    expect(j.spec?.selector).toEqual({ matchLabels: { app: 'x' } });
    expect(messages(manual)).toEqual([]);
  });
});

describe('Job validation', () => {
  it.each<[string, KObject, string[]]>([
    ['a minimal Job is valid', job(), []],
    ['pods must not restart Always (the template default)', job({ template: { spec: podSpec() } }), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']],
    ['counts are not negative', job({ completions: -1, parallelism: -2, backoffLimit: -3, activeDeadlineSeconds: -4, ttlSecondsAfterFinished: -5 }), [
      'spec.parallelism: Invalid value: -2: must be greater than or equal to 0',
      'spec.completions: Invalid value: -1: must be greater than or equal to 0',
      'spec.activeDeadlineSeconds: Invalid value: -4: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0',
      'spec.ttlSecondsAfterFinished: Invalid value: -5: must be greater than or equal to 0',
    ]],
    ['an unknown completion mode', job({ completionMode: 'Sometimes' }), ['spec.completionMode: Unsupported value: "Sometimes": supported values: "Indexed", "NonIndexed"']],
    ['Indexed needs completions', job({ completionMode: 'Indexed', parallelism: 2 }), ['spec.completions: Required value: when completion mode is Indexed']],
    ['a selector it did not generate', job({ selector: { matchLabels: { app: 'x' } } }), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated',
    ]],
    ['a manual selector must match the template', job({ manualSelector: true, selector: { matchLabels: { app: 'x' } } }), [
      'spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`',
    ]],
  ])('%s', (_what, obj, want) => {
    expect(messages(obj)).toEqual(want);
  });

  it('keeps completions, completion mode, selector and template immutable; parallelism may change', () => {
    const old = created(job({ completions: 5, parallelism: 2 }));
    const scaled = { ...old, spec: { ...old.spec!, parallelism: 4 } };
    expect(validateUpdate(old, scaled).map((e) => e.message)).toEqual([]);
    const more = { ...old, spec: { ...old.spec!, completions: 6 } };
    expect(validateUpdate(old, more).map((e) => e.message)).toEqual(['spec.completions: Invalid value: 6: field is immutable']);
    const image = structuredClone(old);
    image.spec!.template.spec!.containers[0]!.image = 'perl:2';
    expect(validateUpdate(old, image).map((e) => e.message)[0]).toMatch(/^spec\.template: Invalid value: .*: field is immutable$/);
    // A suspended Job may still be given scheduling directives.
    const suspended = created(job({ suspend: true }));
    const placed = structuredClone(suspended);
    placed.spec!.template.spec!.nodeSelector = { 'kubernetes.io/hostname': 'node-1' };
    expect(validateUpdate(suspended, placed).map((e) => e.message)).toEqual([]);
  });

  it('Indexed Jobs may scale completions with parallelism (elastic)', () => {
    const old = created(job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }));
    expect(validateUpdate(old, { ...old, spec: { ...old.spec!, completions: 5, parallelism: 5 } }).map((e) => e.message)).toEqual([]);
  });
});

describe('CronJob defaults and validation', () => {
  it('defaults the policy and history limits, and the job template only as a pod template', () => {
    const c = applyDefaults(cronJob()) as CronJob;
    expect(c.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(c.spec?.jobTemplate.spec?.backoffLimit).toBeUndefined();
    expect(c.spec?.jobTemplate.spec?.template.spec?.dnsPolicy).toBe('ClusterFirst');
    expect(messages(c as KObject)).toEqual([]);
  });

  it.each<[string, KObject, string[]]>([
    ['@hourly and a time zone', cronJob({ schedule: '@hourly', timeZone: 'Europe/Berlin' }), []],
    ['a bad schedule, in robfig/cron words', cronJob({ schedule: '61 * * * *' }), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']],
    ['no schedule', cronJob({ schedule: '' }), ['spec.schedule: Required value']],
    ['TZ= belongs in timeZone', cronJob({ schedule: 'TZ=UTC 0 * * * *' }), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['an unknown time zone', cronJob({ timeZone: 'Mars/Olympus' }), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']],
    ['Local is not a time zone', cronJob({ timeZone: 'Local' }), ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones']],
    ['an unknown concurrency policy', cronJob({ concurrencyPolicy: 'Sometimes' }), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']],
    ['negative limits and deadline', cronJob({ startingDeadlineSeconds: -1, successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -1 }), [
      'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.failedJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['the job template is a Job spec', cronJob({ jobTemplate: { spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: podSpec() } } } }), [
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
      'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
    ]],
    ['names leave room for the Job suffix', cronJob({}, { name: 'x'.repeat(53) }), [`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`]],
  ])('%s', (_what, obj, want) => {
    expect(messages(obj)).toEqual(want);
  });
});

describe('Job failure and success policies, per-index limits', () => {
  const indexed = { completionMode: 'Indexed', completions: 3 };
  const cases: Array<[string, Json, string[]]> = [
    ['a valid podFailurePolicy', { podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 3] } }, { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] } }, []],
    [
      'a rule without action, both requirements, exit code 0 with In, unordered values',
      { podFailurePolicy: { rules: [{ onExitCodes: { operator: 'In', values: [3, 0] }, onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] } },
      [
        'spec.podFailurePolicy.rules[0].action: Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
        'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator',
        'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 0}: must be ordered',
        'spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported',
      ],
    ],
    ['an unknown container', { podFailurePolicy: { rules: [{ action: 'Count', onExitCodes: { containerName: 'nope', operator: 'NotIn', values: [1] } }] } }, ['spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template']],
    ['FailIndex without backoffLimitPerIndex', { ...indexed, podFailurePolicy: { rules: [{ action: 'FailIndex', onExitCodes: { operator: 'In', values: [1] } }] } }, ['spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set']],
    ['podReplacementPolicy must be Failed with a podFailurePolicy', { podReplacementPolicy: 'TerminatingOrFailed', podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } }] } }, ['spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"']],
    ['a valid successPolicy', { ...indexed, successPolicy: { rules: [{ succeededIndexes: '0-1', succeededCount: 1 }, { succeededCount: 3 }] } }, []],
    ['successPolicy needs Indexed', { successPolicy: { rules: [{ succeededCount: 1 }] } }, ['spec.successPolicy: Invalid value: ']],
    [
      'successPolicy rules checked against completions',
      { ...indexed, successPolicy: { rules: [{}, { succeededIndexes: '2,1' }, { succeededIndexes: '0-1', succeededCount: 3 }, { succeededIndexes: '5' }] } },
      [
        'spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified',
        'spec.successPolicy.rules[1].succeededIndexes: Invalid value: "2,1": error parsing succeededIndexes: non-increasing order, previous: 2, current: 1',
        'spec.successPolicy.rules[2].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)',
        'spec.successPolicy.rules[3].succeededIndexes: Invalid value: "5": error parsing succeededIndexes: too large index: "5"',
      ],
    ],
    ['maxFailedIndexes needs backoffLimitPerIndex and at most completions', { ...indexed, maxFailedIndexes: 4 }, ['spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified', 'spec.maxFailedIndexes: Invalid value: 4: must be less than or equal to completions']],
    ['maxFailedIndexes needs Indexed', { backoffLimitPerIndex: 1, maxFailedIndexes: 1 }, ['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode', 'spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode']],
  ];
  for (const [name, spec, want] of cases) {
    it(name, () => {
      const got = messages(applyDefaults(job(spec)));
      if (want.length === 1 && want[0]!.endsWith(': ')) expect(got).toEqual([expect.stringContaining(want[0]!)]);
      else expect(got).toEqual(want);
    });
  }
});
