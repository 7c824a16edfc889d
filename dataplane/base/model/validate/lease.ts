/**
 * coordination.k8s.io/v1 Lease (pkg/apis/coordination/validation ValidateLease): a DNS-subdomain
 * name, a positive leaseDurationSeconds and non-negative leaseTransitions when given.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { invalid, type FieldError } from './field-error.js';
import { nameIsDNSSubdomain } from './formats.js';
import { validateObjectMeta } from './object-meta.js';

export function validateLease(l: Lease): FieldError[] {
  const errs = validateObjectMeta(l.metadata, true, nameIsDNSSubdomain);
  const spec = l.spec ?? {};
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) errs.push(invalid('spec.leaseDurationSeconds', spec.leaseDurationSeconds, 'must be greater than 0'));
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) errs.push(invalid('spec.leaseTransitions', spec.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}
