/**
 * Validation of the kinds that bound what pods may use or lose (pkg/apis/policy/validation
 * ValidatePodDisruptionBudget, pkg/apis/scheduling/validation ValidatePriorityClass,
 * pkg/apis/core/validation ValidateLimitRange and ValidateResourceQuota). knet enforces none of
 * them (IGNORED-FIELDS.md); they are checked so a manifest a cluster rejects is rejected here.
 */
import type { LimitRange, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { forbidden, GoLiteral, index, invalid, notSupported, required, type FieldError } from './field-error.js';
import { isValidPercent, nameIsDNSSubdomain } from './formats.js';
import { validateLabelSelector } from './label-selector.js';
import { validateObjectMeta } from './object-meta.js';

/** Priority classes the apiserver creates itself; other "system-" names are reserved. */
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };
const HIGHEST_USER_PRIORITY = 1000000000;
const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'];

function goIntOrString(v: number | string): GoLiteral {
  return typeof v === 'number' ? new GoLiteral(`intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`) : new GoLiteral(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${JSON.stringify(v)}}`);
}

/** A PDB bound: a non-negative count or a percentage of at most 100%. */
function validateIntOrPercent(v: number | string | undefined, path: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'number') return v < 0 ? [invalid(path, goIntOrString(v), 'must be greater than or equal to 0')] : [];
  const errs = isValidPercent(v).map((m) => invalid(path, goIntOrString(v), m));
  if (!errs.length && Number.parseInt(v, 10) > 100) errs.push(invalid(path, goIntOrString(v), 'must not be greater than 100%'));
  return errs;
}

export function validatePodDisruptionBudget(p: PodDisruptionBudget): FieldError[] {
  const errs = validateObjectMeta(p.metadata, true, nameIsDNSSubdomain);
  const spec = p.spec ?? {};
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) errs.push(invalid('spec', new GoLiteral('policy.PodDisruptionBudgetSpec'), 'minAvailable and maxUnavailable cannot be both set'));
  errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable'));
  errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !['AlwaysAllow', 'IfHealthyBudget'].includes(policy)) errs.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, ['AlwaysAllow', 'IfHealthyBudget']));
  return errs;
}

export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, false, nameIsDNSSubdomain);
  const name = pc.metadata?.name ?? '';
  const system = SYSTEM_PRIORITY_CLASSES[name];
  if (system !== undefined) {
    if (pc.value !== system) errs.push(forbidden('metadata.name', `${name} is a system priority class and its value must be ${system}`));
  } else if (name.startsWith('system-')) {
    errs.push(forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"));
  } else if (pc.value > HIGHEST_USER_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  if (pc.preemptionPolicy !== undefined && !PREEMPTION_POLICIES.includes(pc.preemptionPolicy)) errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION_POLICIES));
  return errs;
}

const LIMIT_TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];

export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs = validateObjectMeta(lr.metadata, true, nameIsDNSSubdomain);
  (lr.spec?.limits ?? []).forEach((item, i) => {
    if (!item.type) errs.push(required(`${index('spec.limits', i)}.type`));
    else if (!LIMIT_TYPES.includes(item.type) && !item.type.includes('/')) errs.push(notSupported(`${index('spec.limits', i)}.type`, item.type, LIMIT_TYPES));
  });
  return errs;
}

const QUOTA_SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];

export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  const errs = validateObjectMeta(q.metadata, true, nameIsDNSSubdomain);
  (q.spec?.scopes ?? []).forEach((s, i) => {
    if (!QUOTA_SCOPES.includes(s)) errs.push(notSupported(index('spec.scopes', i), s, QUOTA_SCOPES));
  });
  return errs;
}
