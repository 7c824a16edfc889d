/**
 * A write through the pods' `ephemeralcontainers` subresource (kube-apiserver's
 * EphemeralContainersREST with podEphemeralContainersStrategy): the whole Pod is sent, but only
 * its `spec.ephemeralContainers` is taken — everything else stays as stored
 * (dropNonEphemeralContainerUpdates) — defaulted as containers are, and validated as the whole
 * pod plus ValidatePodEphemeralContainersUpdate (existing ones may not be removed or changed).
 * The plan is committed by writes.ts like any update: resourceVersion, conflicts, watch events.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { CommitOp } from '../store/commit-script.js';
import { keyOf, type KObject } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';
import { applyDefaults } from '../model/defaults/index.js';
import { validateObject } from '../model/validate/index.js';
import { validateEphemeralContainersUpdate } from '../model/validate/ephemeral-containers.js';
import { recordUpdate } from '../patch/managed-fields.js';
import { sameObject, type FieldManagerRef, type PlanResult } from './write-plan.js';

export const EPHEMERAL_CONTAINERS = 'ephemeralcontainers';

export function planEphemeralContainersUpdate(store: ObjectStore, config: ClusterConfig, current: KObject, desired: KObject, expectRv = current.metadata?.resourceVersion, fm?: FieldManagerRef): PlanResult {
  const old = current as Pod;
  const wanted = (desired as Pod).spec?.ephemeralContainers;
  const spec = { ...old.spec!, ephemeralContainers: wanted };
  if (!wanted) delete spec.ephemeralContainers;
  let next = applyDefaults({ ...old, spec } as KObject);
  const fieldErrors = [...validateEphemeralContainersUpdate(old, next as Pod), ...validateObject(next, { cluster: config })];
  if (fieldErrors.length) return { errors: fieldErrors.map((e) => e.message), fieldErrors };
  if (fm) next = recordUpdate(current, next, fm.manager, 'Update', EPHEMERAL_CONTAINERS);
  const op: CommitOp = { kind: 'Pod', key: keyOf(next), mode: 'update', expectRv, json: store.serialize(next) };
  return { plan: { object: next, op, unchanged: sameObject(current, next) } };
}
