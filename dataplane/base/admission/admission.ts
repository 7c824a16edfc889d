/**
 * The apiserver's admission of one object, before anything is written: normalize (nulls,
 * Secret stringData), default, validate (strict fields, types, the kind's rules), and on
 * update carry the allocated values over (an applied manifest without clusterIP or nodePort
 * keeps the ones it has) and check what is immutable.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import { applyDefaults, dropTypeDependentFields, normalizeClusterIPs, normalizeManifest, patchAllocatedValues } from '../model/defaults/index.js';
import { validateObject, validateUpdate } from '../model/validate/index.js';
import type { FieldError } from '../model/validate/field-error.js';
import type { KObject } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';

export interface Admitted {
  object: KObject;
  /** kubectl-style lines: `spec.ports[1].name: Required value`. */
  errors: string[];
  /** The same errors with their field and type (the API's Status causes). */
  fieldErrors: FieldError[];
}

/** `cluster`: the cluster written to, for knet's rules beyond the apiserver's (the addresses a Service may take). */
export function admit(raw: KObject, cluster: ClusterConfig): Admitted {
  const normalized = normalizeManifest(raw);
  const fieldErrors = validateObject(normalized, { cluster });
  return { object: fieldErrors.length ? normalized : applyDefaults(normalized), errors: fieldErrors.map((e) => e.message), fieldErrors };
}

/** Returns the object to write for an update of `current` by `desired`, or its errors. */
export function admitUpdate(current: KObject, desired: KObject, cluster: ClusterConfig): Admitted {
  // As the apiserver orders it: defaults, then carry allocations over and keep clusterIPs in
  // step with clusterIP, then drop what the new type no longer uses.
  let next = applyDefaults(normalizeManifest(desired));
  if (next.kind === 'Service') {
    const old = current as Service;
    next = dropTypeDependentFields(old, normalizeClusterIPs(old, patchAllocatedValues(old, next as Service))) as KObject;
  }
  const fieldErrors = validateUpdate(current, next, { cluster });
  return { object: fieldErrors.length ? next : applyDefaults(next), errors: fieldErrors.map((e) => e.message), fieldErrors };
}
