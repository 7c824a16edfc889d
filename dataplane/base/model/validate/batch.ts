/**
 * Job and CronJob validation (pkg/apis/batch/validation, 1.32): counts not negative, the
 * completion mode, pods that restart OnFailure or Never, the selector — generated on create
 * unless `manualSelector` — and a CronJob's schedule (robfig/cron's parser), time zone,
 * concurrency policy and name length (its Jobs append an 11-character suffix). The failure and
 * success policies and the per-index limits are checked in job-policies.ts.
 *
 * One difference in order: the apiserver generates a Job's selector before validating; knet
 * validates first and generates it as the store assigns the uid (ObjectStore.prepareCreate), so
 * a Job without `manualSelector` is valid without a selector here.
 */
import type { CronJob, Job, JobSpec, JobTemplateSpec } from 'kubernetes-types/batch/v1.js';
import { child, GoLiteral, invalid, notSupported, required, type FieldError } from './field-error.js';
import { isDNS1123Label, nameIsDNSSubdomain } from './formats.js';
import { goLabelSelector, selectorMatches, validateLabelSelector } from './label-selector.js';
import { validateObjectMeta } from './object-meta.js';
import { validatePodTemplateSpec } from './pod.js';
import { validatePerIndexLimits, validatePodFailurePolicy, validateSuccessPolicy } from './job-policies.js';
import { scheduleError } from '../cron/schedule.js';
import { loadZone } from '../cron/time-zone.js';
import { LABEL_JOB_CONTROLLER_UID } from '../well-known.js';

const NONNEGATIVE = 'must be greater than or equal to 0';
const MAX_INDEXED = 100_000;

function nonNegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, NONNEGATIVE)] : [];
}

/** validateJobSpec: what a Job and a CronJob's job template share. */
function validateJobSpecCommon(spec: JobSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...nonNegative(spec.parallelism, child(path, 'parallelism')));
  errs.push(...nonNegative(spec.completions, child(path, 'completions')));
  errs.push(...nonNegative(spec.activeDeadlineSeconds, child(path, 'activeDeadlineSeconds')));
  errs.push(...nonNegative(spec.backoffLimit, child(path, 'backoffLimit')));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, child(path, 'ttlSecondsAfterFinished')));
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
    errs.push(notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
  }
  if (mode === 'Indexed') {
    if (spec.completions === undefined) errs.push(required(child(path, 'completions'), 'when completion mode is Indexed'));
    else if (spec.completions > MAX_INDEXED) errs.push(invalid(child(path, 'completions'), spec.completions, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`));
    if ((spec.parallelism ?? 0) > MAX_INDEXED) errs.push(invalid(child(path, 'parallelism'), spec.parallelism, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`));
  } else if (spec.backoffLimitPerIndex !== undefined) {
    errs.push(invalid(child(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
  }
  errs.push(...validatePerIndexLimits(spec, path));
  if (spec.podFailurePolicy) errs.push(...validatePodFailurePolicy(spec, child(path, 'podFailurePolicy')));
  errs.push(...validateSuccessPolicy(spec, child(path, 'successPolicy')));
  const rp = spec.podReplacementPolicy;
  // validatePodReplacementPolicy: with a podFailurePolicy only Failed.
  if (rp !== undefined && spec.podFailurePolicy && rp !== 'Failed') errs.push(notSupported(child(path, 'podReplacementPolicy'), rp, ['Failed']));
  else if (rp !== undefined && rp !== 'TerminatingOrFailed' && rp !== 'Failed') {
    errs.push(notSupported(child(path, 'podReplacementPolicy'), rp, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validatePodTemplateSpec(spec.template, child(path, 'template')));
  // The pod template's own default is Always, so a Job that names none gets this error.
  const restart = spec.template?.spec?.restartPolicy;
  const restartPath = child(path, 'template', 'spec', 'restartPolicy');
  if (restart === undefined || restart === '' || restart === 'Always') errs.push(required(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restart !== 'OnFailure' && restart !== 'Never') errs.push(notSupported(restartPath, restart, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && restart !== 'Never') errs.push(invalid(restartPath, restart, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  const errs = validateObjectMeta(job.metadata, true, nameIsDNSSubdomain);
  const spec = job.spec;
  if (!spec) return [...errs, required('spec.template')];
  const name = job.metadata?.name ?? '';
  if (spec.completionMode === 'Indexed' && (spec.completions ?? 0) > 0 && name) {
    // Indexed pods are named (and hostnamed) <job>-<index>.
    const highest = `${name}-${spec.completions! - 1}`;
    if (isDNS1123Label(highest).length) errs.push(invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${highest}`));
  }
  errs.push(...validateJobSpecCommon(spec, 'spec'));
  const labels = spec.template?.metadata?.labels;
  if (spec.manualSelector === true) {
    if (!spec.selector) errs.push(required('spec.selector'));
    else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    if (spec.selector && !selectorMatches(spec.selector, labels)) {
      errs.push(invalid('spec.template.metadata.labels', labels ?? new GoLiteral('map[string]string(nil)'), '`selector` does not match template `labels`'));
    }
  } else if (spec.selector) {
    // ValidateGeneratedSelector: only the selector knet generated (the Job's uid) is accepted.
    const uid = job.metadata?.uid ?? labels?.[LABEL_JOB_CONTROLLER_UID];
    const ml = spec.selector.matchLabels ?? {};
    const generated = uid !== undefined && !spec.selector.matchExpressions?.length && Object.keys(ml).length === 1 && ml[LABEL_JOB_CONTROLLER_UID] === uid && labels?.[LABEL_JOB_CONTROLLER_UID] === uid;
    if (!generated) errs.push(invalid('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  }
  return errs;
}

/** ValidateJobTemplateSpec: a CronJob's jobs always get a generated selector. */
function validateJobTemplate(t: JobTemplateSpec | undefined, path: string): FieldError[] {
  const spec = t?.spec ?? { template: {} };
  const errs = validateJobSpecCommon(spec, child(path, 'spec'));
  if (spec.selector) errs.push(invalid(child(path, 'spec', 'selector'), goLabelSelector(spec.selector), '`selector` will be auto-generated'));
  if (spec.manualSelector === true) errs.push(notSupported(child(path, 'spec', 'manualSelector'), true, ['nil', 'false']));
  return errs;
}

const TZ_PART = /^[A-Za-z._+\-0-9]+$/;

export function timeZoneErrors(tz: string | undefined, path: string): FieldError[] {
  if (tz === undefined) return [];
  if (tz === '') return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  return loadZone(tz) ? [] : [invalid(path, tz, `unknown time zone ${tz}`)];
}

/**
 * ValidateCronJobCreate. (On update the apiserver lets a schedule that already had `TZ=` keep
 * it, from before 1.27; knet never stored one, so the create rules apply throughout.)
 */
export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateObjectMeta(cj.metadata, true, nameIsDNSSubdomain);
  const name = cj.metadata?.name ?? '';
  // The controller names its Jobs <cronjob>-<minutes since the epoch>: 63 characters at most.
  if (name.length > 52) errs.push(invalid('metadata.name', name, 'must be no more than 52 characters'));
  const spec = cj.spec;
  if (!spec) return [...errs, required('spec.schedule'), required('spec.concurrencyPolicy')];
  const schedule = spec.schedule ?? '';
  if (schedule === '') errs.push(required('spec.schedule'));
  else {
    const problem = scheduleError(schedule);
    if (problem) errs.push(invalid('spec.schedule', schedule, problem));
    if (schedule.includes('TZ')) errs.push(invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...timeZoneErrors(spec.timeZone, 'spec.timeZone'));
  const policy = spec.concurrencyPolicy ?? '';
  if (policy === '') errs.push(required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy)) errs.push(notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...validateJobTemplate(spec.jobTemplate, 'spec.jobTemplate'));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}
