/**
 * What each kind's registry strategy does to an object on create and update, beyond defaulting
 * (k8s pkg/registry/<group>/<kind>/strategy.go PrepareForCreate / PrepareForUpdate):
 *
 * - `metadata.generation`: only the kinds whose strategy keeps it — the workloads (with
 *   ReplicationController), Ingress, IngressClass, NetworkPolicy, EndpointSlice, Job, CronJob,
 *   HorizontalPodAutoscaler and PodDisruptionBudget — start at 1 and go up when the
 *   spec changes. A Pod, Service, ConfigMap, Namespace, Node or Event has none (Pods gained it
 *   only in 1.33), and no client can set it: on update it is the stored one.
 * - the status a new object starts with: a Pod `{phase: Pending, qosClass}`, a Service
 *   `{loadBalancer: {}}`, a Namespace `{phase: Active}` (with the `kubernetes` finalizer in its
 *   spec, which updates keep), a PersistentVolume or claim `{phase: Pending}`, a
 *   PodDisruptionBudget its counts at 0; other kinds none.
 * Pure.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KObject } from './object.js';
import { podQOSClass } from './pod-qos.js';

type Spec = (o: KObject) => unknown;
const spec: Spec = (o) => (o as { spec?: unknown }).spec;

/** Kind → the part whose change is a new generation. */
const GENERATION: Record<string, Spec> = {
  Deployment: spec,
  ReplicaSet: spec,
  StatefulSet: spec,
  DaemonSet: spec,
  Job: spec,
  CronJob: spec,
  Ingress: spec,
  IngressClass: spec,
  NetworkPolicy: spec,
  ReplicationController: spec,
  HorizontalPodAutoscaler: spec,
  PodDisruptionBudget: spec,
  // endpointSliceStrategy.PrepareForUpdate: a change of endpoints, ports or addressType.
  EndpointSlice: (o) => {
    const s = o as { addressType?: unknown; endpoints?: unknown; ports?: unknown };
    return [s.addressType, s.endpoints, s.ports];
  },
};

export function tracksGeneration(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(GENERATION, kind);
}

/** The generation an update leaves: the stored one, one more when the kind's spec changed; none for kinds without. */
export function nextGeneration(current: KObject, desired: KObject): number | undefined {
  const part = GENERATION[current.kind ?? ''];
  if (!part) return undefined;
  const was = current.metadata?.generation ?? 1;
  return JSON.stringify(part(current)) !== JSON.stringify(part(desired)) ? was + 1 : was;
}

/**
 * A created object as the strategy leaves it: the status it starts with (its own status is the
 * status subresource's to write) and, for a Namespace, the `kubernetes` finalizer.
 */
export function prepareForCreate(obj: KObject): KObject {
  const { status: _ignored, ...rest } = obj as KObject & { status?: unknown };
  if (obj.kind === 'Pod') return { ...rest, status: { phase: 'Pending', qosClass: podQOSClass(obj as Pod) } } as KObject;
  // ServiceStatus is a struct: a new Service is written with its empty loadBalancer status.
  if (obj.kind === 'Service') return { ...rest, status: { loadBalancer: {} } } as KObject;
  // A claim and a volume start Pending (SetDefaults_PersistentVolume{,Claim}); nothing binds them here.
  if (obj.kind === 'PersistentVolumeClaim') return { ...rest, status: { phase: 'Pending' } } as KObject;
  if (obj.kind === 'PersistentVolume') return { ...rest, status: { phase: 'Pending', lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } as KObject;
  // PodDisruptionBudgetStatus's counts are not omitempty: a new budget shows them at 0.
  if (obj.kind === 'PodDisruptionBudget') return { ...rest, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } } as KObject;
  if (obj.kind === 'Namespace') {
    const s = (obj as { spec?: { finalizers?: string[] } }).spec;
    return { ...rest, spec: { ...s, finalizers: [...new Set([...(s?.finalizers ?? []), 'kubernetes'])] }, status: { phase: 'Active' } } as KObject;
  }
  return rest as KObject;
}

/** What an update may not change: a Namespace's finalizers (only its finalize subresource may). */
export function prepareForUpdate(current: KObject, desired: KObject): KObject {
  if (current.kind === 'Namespace') {
    const finalizers = (current as { spec?: { finalizers?: string[] } }).spec?.finalizers;
    const spec = { ...(desired as { spec?: Record<string, unknown> }).spec };
    if (finalizers) spec.finalizers = finalizers;
    else delete spec.finalizers;
    return { ...desired, ...(Object.keys(spec).length ? { spec } : {}) } as KObject;
  }
  return desired;
}
