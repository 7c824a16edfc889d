/**
 * Job and CronJob defaults (pkg/apis/batch/v1/defaults.go, 1.32 with its default feature gates)
 * and the Job selector the apiserver generates on create (pkg/registry/batch/job/strategy.go
 * generateSelector), which needs the uid the store assigns.
 */
import { asObject, ensureObject, setDefault, type JsonObject } from './json.js';
import { defaultPodTemplate } from './pod.js';
import { LABEL_JOB_CONTROLLER_UID, LABEL_JOB_NAME, LABEL_LEGACY_JOB_CONTROLLER_UID, LABEL_LEGACY_JOB_NAME } from '../well-known.js';

const MAX_INT32 = 2147483647;

/** SetDefaults_Job: counts, back-off limit, completion mode, suspend, replacement policy, labels from the template. */
export function defaultJob(o: JsonObject): void {
  const spec = ensureObject(o, 'spec');
  if (!spec) return;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  const pfp = asObject(spec.podFailurePolicy);
  for (const rule of Array.isArray(pfp?.rules) ? pfp.rules : []) {
    const conditions = asObject(rule)?.onPodConditions;
    for (const pattern of Array.isArray(conditions) ? conditions : []) {
      const p = asObject(pattern);
      if (p) setDefault(p, 'status', 'True');
    }
  }
  setDefault(spec, 'podReplacementPolicy', pfp ? 'Failed' : 'TerminatingOrFailed');
  setDefault(spec, 'manualSelector', false);
  defaultPodTemplate(asObject(spec.template));
  inheritTemplateLabels(o, spec);
}

/** A Job without labels takes its pod template's (upstream aliases the very map, so generated labels show too). */
function inheritTemplateLabels(o: JsonObject, spec: JsonObject): void {
  const labels = asObject(asObject(asObject(spec.template)?.metadata)?.labels);
  const meta = ensureObject(o, 'metadata');
  if (!labels || !meta) return;
  const own = asObject(meta.labels);
  if (!own || Object.keys(own).length === 0) meta.labels = { ...labels };
}

/** SetDefaults_CronJob; the job template gets its pod template's defaults only (not a Job's). */
export function defaultCronJob(o: JsonObject): void {
  const spec = ensureObject(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  defaultPodTemplate(asObject(asObject(asObject(spec.jobTemplate)?.spec)?.template));
}

/**
 * generateSelector, on create, unless `spec.manualSelector` is true: the template gets the
 * `batch.kubernetes.io/controller-uid` and `job-name` labels (and their unprefixed forms), the
 * selector matches the uid, and a Job that took its template's labels follows them.
 */
export function generateJobSelector(o: JsonObject): void {
  const spec = asObject(o.spec);
  const meta = asObject(o.metadata);
  if (!spec || !meta || spec.manualSelector === true) return;
  const uid = String(meta.uid ?? '');
  const name = String(meta.name ?? '');
  const template = ensureObject(spec, 'template');
  const tmeta = template && ensureObject(template, 'metadata');
  const tlabels = tmeta && ensureObject(tmeta, 'labels');
  if (!tlabels) return;
  const before = JSON.stringify(tlabels);
  const followsTemplate = meta.labels === undefined || JSON.stringify(meta.labels) === before || Object.keys(asObject(meta.labels) ?? {}).length === 0;
  for (const key of [LABEL_LEGACY_JOB_CONTROLLER_UID, LABEL_JOB_CONTROLLER_UID]) setDefault(tlabels, key, uid);
  for (const key of [LABEL_LEGACY_JOB_NAME, LABEL_JOB_NAME]) setDefault(tlabels, key, name);
  const selector = ensureObject(spec, 'selector');
  const matchLabels = selector && ensureObject(selector, 'matchLabels');
  if (matchLabels) setDefault(matchLabels, LABEL_JOB_CONTROLLER_UID, uid);
  if (followsTemplate) meta.labels = { ...tlabels };
}
