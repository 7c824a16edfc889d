/**
 * autoscaling/v2 HorizontalPodAutoscaler validation (pkg/apis/autoscaling/validation): a scale
 * target with a kind and a name, 1 ≤ minReplicas ≤ maxReplicas, metrics of known types each with
 * its source. knet does not autoscale (IGNORED-FIELDS.md).
 */
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { index, invalid, notSupported, required, type FieldError } from './field-error.js';
import { nameIsDNSSubdomain } from './formats.js';
import { validateObjectMeta } from './object-meta.js';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELD: Record<string, string> = { ContainerResource: 'containerResource', External: 'external', Object: 'object', Pods: 'pods', Resource: 'resource' };

export function validateHorizontalPodAutoscaler(h: HorizontalPodAutoscaler): FieldError[] {
  const errs = validateObjectMeta(h.metadata, true, nameIsDNSSubdomain);
  const spec = h.spec;
  const ref = spec?.scaleTargetRef;
  if (!ref?.kind) errs.push(required('spec.scaleTargetRef.kind'));
  if (!ref?.name) errs.push(required('spec.scaleTargetRef.name'));
  const min = spec?.minReplicas;
  const max = spec?.maxReplicas ?? 0;
  if (min !== undefined && min < 1) errs.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to 1'));
  if (min !== undefined && max < min) errs.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  (spec?.metrics ?? []).forEach((m, i) => {
    const path = index('spec.metrics', i);
    if (!METRIC_TYPES.includes(m.type)) {
      errs.push(notSupported(`${path}.type`, m.type, METRIC_TYPES));
      return;
    }
    const field = SOURCE_FIELD[m.type]!;
    if ((m as unknown as Record<string, unknown>)[field] === undefined) errs.push(required(`${path}.${field}`, `must populate information for the given metric source`));
  });
  return errs;
}
