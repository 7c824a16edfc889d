/**
 * Manifest validation as the apiserver does it, in its two stages:
 *
 *  1. decode: a known kind and version, no unknown fields (kubectl's strict validation), values
 *     of their schema types, base64 where bytes are expected. A manifest failing this stage gets
 *     only these errors, as a body that does not decode never reaches a validator.
 *  2. validate: the kind's rules, run on the defaulted object (applyDefaults), with the
 *     apiserver's messages.
 *
 * Every error is a FieldError whose `message` is the line kubectl would print, e.g.
 * `spec.ports[1].name: Required value`. Nothing here throws on bad input.
 */
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { ConfigMap, Endpoints, Namespace, Node, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { applyDefaults } from '../defaults/index.js';
import type { KObject } from '../object.js';
import { validateDaemonSet, validateDeployment, validateReplicaSet, validateStatefulSet } from './apps.js';
import { validateCronJob, validateJob } from './batch.js';
import { validateNamespace, validateNode } from './cluster.js';
import { validateConfigMap, validateSecret } from './config.js';
import { decodeErrors } from './decode.js';
import { validateEndpoints, validateEndpointSlice } from './endpoints.js';
import { invalid, type FieldError } from './field-error.js';
import { nameIsDNSSubdomain } from './formats.js';
import { validateIngress, validateIngressClass } from './ingress.js';
import { validateNetworkPolicy } from './network-policy.js';
import { validateLease } from './lease.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { validateObjectMeta } from './object-meta.js';
import { validateReplicationController } from './replication-controller.js';
import { validatePersistentVolume, validatePersistentVolumeClaim, validateStorageClass } from './storage.js';
import { validateLimitRange, validatePodDisruptionBudget, validatePriorityClass, validateResourceQuota } from './policy.js';
import { validateHorizontalPodAutoscaler } from './autoscaling.js';
import { validateClusterRole, validateRole, validateRoleBinding } from './rbac.js';
import type { LimitRange, PersistentVolume, PersistentVolumeClaim, ReplicationController, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { ClusterRole, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { ValidationOptions } from './options.js';
import { validatePod } from './pod.js';
import { validateService } from './service.js';
import { validateUpdateRules } from './update.js';

export type { FieldError, FieldErrorType } from './field-error.js';
export type { ValidationOptions } from './options.js';

/** Stage 2: the kind's own rules on a decoded, defaulted object. */
function validateKind(o: KObject, opts: ValidationOptions): FieldError[] {
  switch (o.kind) {
    case 'Service':
      return validateService(o as Service, opts);
    case 'Pod':
      return validatePod(o as Pod);
    case 'Deployment':
      return validateDeployment(o as Deployment);
    case 'ReplicaSet':
      return validateReplicaSet(o as ReplicaSet);
    case 'StatefulSet':
      return validateStatefulSet(o as StatefulSet);
    case 'DaemonSet':
      return validateDaemonSet(o as DaemonSet);
    case 'Job':
      return validateJob(o as Job);
    case 'CronJob':
      return validateCronJob(o as CronJob);
    case 'Endpoints':
      return validateEndpoints(o as Endpoints);
    case 'EndpointSlice':
      return validateEndpointSlice(o as EndpointSlice);
    case 'Ingress':
      return validateIngress(o as Ingress);
    case 'IngressClass':
      return validateIngressClass(o as IngressClass);
    case 'NetworkPolicy':
      return validateNetworkPolicy(o as NetworkPolicy);
    case 'Secret':
      return validateSecret(o as Secret);
    case 'ConfigMap':
      return validateConfigMap(o as ConfigMap);
    case 'Namespace':
      return validateNamespace(o as Namespace);
    case 'Node':
      return validateNode(o as Node);
    case 'Lease':
      return validateLease(o as Lease);
    default:
      return validateMoreKinds(o);
  }
}

/** The kinds knet stores without acting on them (RBAC, storage, quota, autoscaling, disruption budgets). */
function validateMoreKinds(o: KObject): FieldError[] {
  switch (o.kind) {
    case 'ReplicationController':
      return validateReplicationController(o as ReplicationController);
    case 'PersistentVolume':
      return validatePersistentVolume(o as PersistentVolume);
    case 'PersistentVolumeClaim':
      return validatePersistentVolumeClaim(o as PersistentVolumeClaim);
    case 'StorageClass':
      return validateStorageClass(o as unknown as StorageClass);
    case 'LimitRange':
      return validateLimitRange(o as LimitRange);
    case 'ResourceQuota':
      return validateResourceQuota(o as ResourceQuota);
    case 'PodDisruptionBudget':
      return validatePodDisruptionBudget(o as PodDisruptionBudget);
    case 'PriorityClass':
      return validatePriorityClass(o as unknown as PriorityClass);
    case 'HorizontalPodAutoscaler':
      return validateHorizontalPodAutoscaler(o as HorizontalPodAutoscaler);
    case 'Role':
      return validateRole(o as unknown as Role);
    case 'ClusterRole':
      return validateClusterRole(o as unknown as ClusterRole);
    case 'RoleBinding':
      return validateRoleBinding(o as unknown as RoleBinding, false);
    case 'ClusterRoleBinding':
      return validateRoleBinding(o as unknown as RoleBinding, true);
    default:
      // Event: metadata only.
      return validateObjectMeta(o.metadata, true, nameIsDNSSubdomain);
  }
}

/**
 * All errors of a manifest on create: unknown fields, type errors, then (if it decodes) the
 * kind's validation on its defaulted form. [] means the apiserver would accept it. Accepts the
 * raw manifest or an already defaulted object (defaulting is idempotent).
 */
export function validateObject(obj: unknown, opts: ValidationOptions = {}): FieldError[] {
  const decode = decodeErrors(obj);
  if (decode.length) return decode;
  return validateKind(applyDefaults(obj as KObject), opts);
}

/**
 * All errors of replacing `oldObj` by `newObj`: everything validateObject reports for the new
 * object, plus the update rules (immutable selectors, Service clusterIP and
 * healthCheckNodePort, StatefulSet spec, Pod spec, Secret type, EndpointSlice addressType…).
 * It includes validateObject(newObj): on an update call it instead of validateObject, on the
 * new object as it will be written (for Services: after patchAllocatedValues and
 * dropTypeDependentFields, see defaults/service-update.ts).
 */
export function validateUpdate(oldObj: unknown, newObj: unknown, opts: ValidationOptions = {}): FieldError[] {
  const errs = validateObject(newObj, opts);
  if (decodeErrors(newObj).length || decodeErrors(oldObj).length) return errs;
  const o = applyDefaults(oldObj as KObject);
  const n = applyDefaults(newObj as KObject);
  if (o.kind !== n.kind) return [...errs, invalid('kind', n.kind ?? '', 'field is immutable')];
  return [...validateUpdateRules(o, n), ...errs];
}

/** One line per error, as kubectl prints a rejected object: `The Service "web" is invalid: …`. */
export function formatErrors(obj: KObject, errors: readonly FieldError[]): string {
  const kind = obj.kind ?? 'Object';
  const name = obj.metadata?.name ?? '';
  if (errors.every((e) => e.type === 'Unknown')) {
    return `${kind} in version ${JSON.stringify(obj.apiVersion ?? '')} cannot be handled as a ${kind}: strict decoding error: ${errors
      .map((e) => e.message)
      .join(', ')}`;
  }
  const lines = errors.map((e) => e.message);
  return lines.length === 1
    ? `The ${kind} ${JSON.stringify(name)} is invalid: ${lines[0]}`
    : `The ${kind} ${JSON.stringify(name)} is invalid: \n* ${lines.join('\n* ')}`;
}
