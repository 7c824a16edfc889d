/**
 * ReplicationController validation (pkg/apis/core/validation ValidateReplicationController): an
 * equality selector that is required, non-empty and matches the template's labels, a pod
 * template that restarts Always, non-negative counts.
 */
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { forbidden, GoLiteral, invalid, notSupported, required, type FieldError } from './field-error.js';
import { nameIsDNSSubdomain } from './formats.js';
import { validateLabels, validateObjectMeta } from './object-meta.js';
import { validatePodTemplateSpec } from './pod.js';

const nonNegative = (v: number | undefined, path: string): FieldError[] => (v !== undefined && v < 0 ? [invalid(path, v, 'must be greater than or equal to 0')] : []);

export function validateReplicationController(rc: ReplicationController): FieldError[] {
  const errs = validateObjectMeta(rc.metadata, true, nameIsDNSSubdomain);
  const spec = rc.spec ?? {};
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const t = spec.template;
  if (!t) return [...errs, required('spec.template')];
  const labels = t.metadata?.labels;
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels?.[k] === v)) {
    errs.push(invalid('spec.template.metadata.labels', labels ?? new GoLiteral('map[string]string(nil)'), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(t, 'spec.template'));
  const rp = t.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'Always') errs.push(notSupported('spec.template.spec.restartPolicy', rp, ['Always']));
  if (t.spec?.activeDeadlineSeconds !== undefined) errs.push(forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  return errs;
}
