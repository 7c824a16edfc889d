/**
 * Type and format checking against the Kubernetes OpenAPI schema, via the ajv validators that
 * `kubernetes-models` ships, with ajv's errors turned into apiserver-style field errors:
 *
 *   spec.ports[0].port: Invalid value: "abc": spec.ports[0].port in body must be of type integer
 *   spec.ports[0].protocol: Unsupported value: "FOO": supported values: "SCTP", "TCP", "UDP"
 *   metadata.labels[app]: Invalid value: 1: metadata.labels[app] in body must be of type string
 *
 * This is the decode stage: an object failing it never reaches semantic validation, as a
 * request body the apiserver cannot decode never reaches its validators.
 */
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Node } from 'kubernetes-models/v1/Node';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { Endpoints } from 'kubernetes-models/v1/Endpoints';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Event } from 'kubernetes-models/v1/Event';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1/IngressClass';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ReplicationController } from 'kubernetes-models/v1/ReplicationController';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { formatPath, pointerSteps } from './field-path.js';
import { invalid, notSupported, type FieldError } from '../validate/field-error.js';

/** The part of a kubernetes-models class we use: construct from data, validate or throw. */
type ModelClass = new (data: never) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  Namespace,
  Node,
  Pod,
  Service,
  Endpoints,
  Secret,
  ConfigMap,
  Event,
  Deployment,
  ReplicaSet,
  StatefulSet,
  DaemonSet,
  Job,
  CronJob,
  EndpointSlice,
  Ingress,
  IngressClass,
  PersistentVolume,
  PersistentVolumeClaim,
  ReplicationController,
  LimitRange,
  ResourceQuota,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  PriorityClass,
  StorageClass,
};

/** The subset of ajv's ErrorObject we read. */
interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

const QUANTITY_RE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

function valueAt(obj: unknown, steps: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const s of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** One field error per offending path: ajv reports several for one bad IntOrString or Quantity. */
function translate(kind: string, obj: unknown, errors: readonly AjvError[]): FieldError[] {
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const out: FieldError[] = [];
  for (const [pointer, errs] of byPath) {
    const steps = pointerSteps(pointer);
    const path = formatPath(kind, steps);
    const value = valueAt(obj, steps);
    const oneOf = errs.some((e) => e.keyword === 'oneOf');
    if (errs.some((e) => e.keyword === 'format' && e.params.format === 'quantity')) {
      out.push(invalid(path, value, `quantities must match the regular expression '${QUANTITY_RE}'`));
      continue;
    }
    if (oneOf) {
      out.push(invalid(path, value, `${path} in body must be of type integer or string`));
      continue;
    }
    for (const e of errs) {
      switch (e.keyword) {
        case 'required':
          // Go's decoder does not enforce the schema's required list: a missing field decodes as
          // its zero value and the kind's validation reports it, in its own words
          // ("pathType must be specified"). Leave it to that stage.
          break;
        case 'enum':
          // "" is Go's zero value: the apiserver decodes it as unset and defaulting fills it in.
          if (value !== '') out.push(notSupported(path, value, (e.params.allowedValues as unknown[]).map(String)));
          break;
        case 'type':
          out.push(invalid(path, value, `${path} in body must be of type ${String(e.params.type)}`));
          break;
        case 'format':
          // base64 ("byte") is checked by the decode stage with Go's exact verdict, and without
          // echoing secret contents.
          if (e.params.format === 'byte') break;
          // A number that is an integer but overflows int32/int64, or a malformed timestamp.
          out.push(invalid(path, value, `${path} in body must be of type ${String(e.params.format)}`));
          break;
        default:
          out.push(invalid(path, value, `${path} in body failed "${e.keyword}" validation`));
      }
    }
  }
  return out;
}

/** Kinds with a schema to check against. */
export function hasTypeSchema(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(MODELS, kind);
}

/**
 * Type, enum and format errors of `obj` against the schema of `kind`.
 * apiVersion and kind themselves are the caller's business (they pick the schema).
 */
export function typeErrors(kind: string, obj: Record<string, unknown>): FieldError[] {
  if (!hasTypeSchema(kind)) return [];
  const Model = MODELS[kind];
  const model = new Model({ ...obj } as never);
  try {
    model.validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(errors)) throw err;
    // apiVersion/kind enum errors would only repeat what the caller already checked.
    const relevant = errors.filter((e) => e.instancePath !== '/apiVersion' && e.instancePath !== '/kind');
    return translate(kind, obj, relevant);
  }
}
