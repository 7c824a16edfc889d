/**
 * Update-only rules: what may not change once written (ValidateXUpdate in the apiserver).
 * Both objects arrive defaulted; the full validation of the new one is done by the caller.
 */
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { ConfigMap, Node, PersistentVolumeClaim, Pod, PodSpec, Secret, Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { IngressClass } from 'kubernetes-types/networking/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { KObject } from '../object.js';
import { forbidden, GoLiteral, invalid, type FieldError } from './field-error.js';
import { goLabelSelector } from './label-selector.js';
import { isHeadless, needsHealthCheck } from './service.js';

const IMMUTABLE = 'field is immutable';
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function immutable(path: string, oldV: unknown, newV: unknown, shown: unknown = newV): FieldError[] {
  return same(oldV, newV) ? [] : [invalid(path, shown, IMMUTABLE)];
}

function validateMetaUpdate(o: KObject, n: KObject): FieldError[] {
  const om = o.metadata ?? {};
  const nm = n.metadata ?? {};
  const errs = [
    ...immutable('metadata.name', om.name ?? '', nm.name ?? ''),
    ...immutable('metadata.namespace', om.namespace ?? '', nm.namespace ?? ''),
  ];
  // Fields the store sets: only a client that sends a different value is changing them.
  if (om.uid && nm.uid) errs.push(...immutable('metadata.uid', om.uid, nm.uid));
  if (om.creationTimestamp && nm.creationTimestamp) {
    errs.push(...immutable('metadata.creationTimestamp', om.creationTimestamp, nm.creationTimestamp));
  }
  // ValidateNoNewFinalizers: an object being deleted may only lose finalizers.
  if (om.deletionTimestamp) {
    const extra = [...new Set(nm.finalizers ?? [])].filter((f) => !(om.finalizers ?? []).includes(f)).sort();
    if (extra.length) errs.push(forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(', ')}}`));
  }
  return errs;
}

/** validateUpgradeDowngradeClusterIPs and the healthCheckNodePort rule. */
function validateServiceUpdate(o: ServiceSpec, n: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (o.type !== 'ExternalName' && n.type !== 'ExternalName' && !(isHeadless(o) && isHeadless(n))) {
    const oldIPs = o.clusterIPs ?? [];
    const newIPs = n.clusterIPs ?? [];
    // Go prints the new list, a nil one as such.
    const shown = n.clusterIPs === undefined ? new GoLiteral('[]string(nil)') : newIPs;
    const changed = 'may not change once set';
    if (oldIPs.length === newIPs.length) {
      oldIPs.forEach((ip, i) => {
        if (ip !== newIPs[i]) errs.push(invalid(`spec.clusterIPs[${i}]`, shown, changed));
      });
    } else if (oldIPs.length > newIPs.length) {
      if (newIPs.length === 0) errs.push(invalid('spec.clusterIPs[0]', shown, 'primary clusterIP can not be unset'));
      else if (newIPs[0] !== oldIPs[0]) errs.push(invalid('spec.clusterIPs[0]', shown, changed));
    } else if (oldIPs.length > 0 && newIPs[0] !== oldIPs[0]) {
      errs.push(invalid('spec.clusterIPs[0]', shown, changed));
    }
  }
  if (needsHealthCheck(o) && needsHealthCheck(n) && (o.healthCheckNodePort ?? 0) !== (n.healthCheckNodePort ?? 0)) {
    errs.push(forbidden('spec.healthCheckNodePort', IMMUTABLE));
  }
  if (o.type === 'LoadBalancer' && n.type === 'LoadBalancer' && !same(o.loadBalancerClass, n.loadBalancerClass)) {
    errs.push(invalid('spec.loadBalancerClass', n.loadBalancerClass ?? null, 'may not change once set'));
  }
  return errs;
}

const POD_UPDATABLE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/**
 * ValidatePodUpdate, without upstream's spec diff in the message. One knet-specific allowance:
 * spec.nodeName may go from unset to set, which is what a scheduler's binding does.
 */
function validatePodUpdate(o: PodSpec, n: PodSpec): FieldError[] {
  for (const field of ['containers', 'initContainers'] as const) {
    if ((o[field] ?? []).length !== (n[field] ?? []).length) {
      return [forbidden(`spec.${field}`, 'pod updates may not add or remove containers')];
    }
  }
  const munged: PodSpec = structuredClone(n);
  munged.containers = (n.containers ?? []).map((c, i) => ({ ...c, image: o.containers[i].image }));
  if (n.initContainers) munged.initContainers = n.initContainers.map((c, i) => ({ ...c, image: o.initContainers?.[i]?.image }));
  munged.activeDeadlineSeconds = o.activeDeadlineSeconds;
  const oldTolerations = o.tolerations ?? [];
  const tolerationsOnlyAdded = oldTolerations.every((t) => (n.tolerations ?? []).some((u) => same(t, u)));
  if (tolerationsOnlyAdded) munged.tolerations = o.tolerations;
  if (!o.nodeName && n.nodeName) munged.nodeName = o.nodeName;
  if ((o.terminationGracePeriodSeconds ?? 0) < 0 && n.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = o.terminationGracePeriodSeconds;
  }
  for (const k of Object.keys(munged) as (keyof PodSpec)[]) if (munged[k] === undefined) delete munged[k];
  return same(sortKeys(munged), sortKeys(o)) ? [] : [forbidden('spec', POD_UPDATABLE)];
}

/** Key order must not count as a change. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

const STATEFULSET_UPDATABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

function validateStatefulSetUpdate(o: StatefulSet, n: StatefulSet): FieldError[] {
  const strip = (s: StatefulSet): unknown =>
    sortKeys(Object.fromEntries(Object.entries(s.spec ?? {}).filter(([k]) => !STATEFULSET_UPDATABLE.includes(k))));
  if (same(strip(o), strip(n))) return [];
  return [
    forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', " +
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

/** Pod template fields a suspended Job may still change (the scheduling directives Kueue-style queues set). */
const SUSPENDED_JOB_MUTABLE = ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates'];

/** ValidateJobSpecUpdate: what a Job may not change once created. */
function validateJobUpdate(o: JobSpec, n: JobSpec): FieldError[] {
  const errs: FieldError[] = [];
  const indexed = n.completionMode === 'Indexed';
  // Elastic Indexed Jobs: completions may follow parallelism when both are kept equal.
  const elastic = indexed && o.completions === o.parallelism && n.completions === n.parallelism;
  if (!elastic) errs.push(...immutable('spec.completions', o.completions, n.completions));
  for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'successPolicy', 'managedBy'] as const) errs.push(...immutable(`spec.${f}`, o[f], n[f]));
  const strip = (t: JobSpec['template']): unknown => {
    if (!o.suspend) return sortKeys(t);
    const spec = Object.fromEntries(Object.entries(t.spec ?? {}).filter(([k]) => !SUSPENDED_JOB_MUTABLE.includes(k)));
    const { labels: _l, annotations: _a, ...metadata } = t.metadata ?? {};
    return sortKeys({ ...t, metadata, spec });
  };
  if (!same(strip(o.template), strip(n.template))) errs.push(invalid('spec.template', n.template, IMMUTABLE));
  return errs;
}

function selectorImmutable(o: { spec?: { selector?: LabelSelector } }, n: { spec?: { selector?: LabelSelector } }): FieldError[] {
  const ns = n.spec?.selector;
  return immutable('spec.selector', o.spec?.selector, ns, goLabelSelector(ns));
}

/** Errors for changes an update may not make, given the stored object and the defaulted new one. */
export function validateUpdateRules(o: KObject, n: KObject): FieldError[] {
  const errs = validateMetaUpdate(o, n);
  switch (n.kind) {
    case 'Service':
      errs.push(...validateServiceUpdate((o as Service).spec ?? {}, (n as Service).spec ?? {}));
      break;
    case 'Pod':
      errs.push(...validatePodUpdate((o as Pod).spec ?? { containers: [] }, (n as Pod).spec ?? { containers: [] }));
      break;
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      errs.push(...selectorImmutable(o as Deployment | ReplicaSet | DaemonSet, n as Deployment | ReplicaSet | DaemonSet));
      break;
    case 'StatefulSet':
      errs.push(...selectorImmutable(o as StatefulSet, n as StatefulSet));
      errs.push(...validateStatefulSetUpdate(o as StatefulSet, n as StatefulSet));
      break;
    case 'Job':
      errs.push(...selectorImmutable(o as Job, n as Job));
      errs.push(...validateJobUpdate((o as Job).spec ?? { template: {} }, (n as Job).spec ?? { template: {} }));
      break;
    case 'Secret': {
      const os = o as Secret;
      const ns = n as Secret;
      errs.push(...immutable('type', os.type ?? '', ns.type ?? ''));
      errs.push(...immutableData(os, ns, ['data']));
      break;
    }
    case 'ConfigMap':
      errs.push(...immutableData(o as ConfigMap, n as ConfigMap, ['data', 'binaryData']));
      break;
    case 'EndpointSlice':
      errs.push(...immutable('addressType', (o as EndpointSlice).addressType ?? '', (n as EndpointSlice).addressType ?? ''));
      break;
    case 'IngressClass':
      errs.push(...immutable('spec.controller', (o as IngressClass).spec?.controller ?? '', (n as IngressClass).spec?.controller ?? ''));
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      // ValidateRoleBindingUpdate: "cannot change roleRef".
      const ref = (x: KObject) => (x as { roleRef?: { apiGroup?: string; kind?: string; name?: string } }).roleRef ?? {};
      const r = ref(n);
      const shown = new GoLiteral(`rbac.RoleRef{APIGroup:${JSON.stringify(r.apiGroup ?? '')}, Kind:${JSON.stringify(r.kind ?? '')}, Name:${JSON.stringify(r.name ?? '')}}`);
      if (!same(ref(o), r)) errs.push(invalid('roleRef', shown, 'cannot change roleRef'));
      break;
    }
    case 'PriorityClass': {
      const pc = (x: KObject) => x as { value?: number; preemptionPolicy?: string };
      if (pc(o).value !== pc(n).value) errs.push(forbidden('value', 'may not be changed in an update.'));
      errs.push(...immutable('preemptionPolicy', pc(o).preemptionPolicy, pc(n).preemptionPolicy));
      break;
    }
    case 'PersistentVolumeClaim':
      errs.push(...validateClaimUpdate(o as PersistentVolumeClaim, n as PersistentVolumeClaim));
      break;
    case 'StorageClass': {
      const sc = (x: KObject) => x as { provisioner?: string; parameters?: unknown; reclaimPolicy?: string; volumeBindingMode?: string };
      errs.push(...immutable('provisioner', sc(o).provisioner, sc(n).provisioner));
      errs.push(...immutable('parameters', sc(o).parameters, sc(n).parameters));
      errs.push(...immutable('reclaimPolicy', sc(o).reclaimPolicy, sc(n).reclaimPolicy));
      errs.push(...immutable('volumeBindingMode', sc(o).volumeBindingMode, sc(n).volumeBindingMode));
      break;
    }
    case 'Node': {
      const oc = (o as Node).spec?.podCIDRs ?? [];
      const nc = (n as Node).spec?.podCIDRs ?? [];
      if (oc.length > 0 && !same(oc, nc)) {
        errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
      }
      break;
    }
  }
  return errs;
}

/** Secrets and ConfigMaps marked `immutable: true` stay so, contents included. */
function immutableData(o: Secret | ConfigMap, n: Secret | ConfigMap, fields: ('data' | 'binaryData')[]): FieldError[] {
  if (o.immutable !== true) return [];
  const msg = 'field is immutable when `immutable` is set';
  const errs: FieldError[] = [];
  if (n.immutable !== true) errs.push(forbidden('immutable', msg));
  for (const f of fields) {
    const ov = (o as Record<string, unknown>)[f];
    const nv = (n as Record<string, unknown>)[f];
    if (!same(sortKeys(ov), sortKeys(nv))) errs.push(forbidden(f, msg));
  }
  return errs;
}

/**
 * ValidatePersistentVolumeClaimUpdate: a claim's spec is immutable once created but for its
 * requested storage and volumeAttributesClassName (and volumeName, set when it binds).
 */
function validateClaimUpdate(o: PersistentVolumeClaim, n: PersistentVolumeClaim): FieldError[] {
  const strip = (c: PersistentVolumeClaim): unknown => {
    const { resources: r, volumeAttributesClassName: _v, volumeName: _n, ...rest } = c.spec ?? {};
    return sortKeys({ ...rest, resources: { ...r, requests: { ...r?.requests, storage: undefined } } });
  };
  if (JSON.stringify(strip(o)) === JSON.stringify(strip(n))) return [];
  return [forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims')];
}
