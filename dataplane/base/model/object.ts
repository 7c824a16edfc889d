/**
 * The shape every stored object shares. Kinds use the `kubernetes-types` interfaces
 * (Service, Pod, EndpointSlice…); this is the common denominator the store and the
 * informers work with.
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

/** An object with kind-specific top-level fields (data, subsets, endpoints, items…). */
export type AnyObject = KObject & { [field: string]: unknown };

/** Kinds knet stores, with their apiVersion and whether they live in a namespace. */
export const KINDS = {
  Namespace: { apiVersion: 'v1', namespaced: false },
  Node: { apiVersion: 'v1', namespaced: false },
  Pod: { apiVersion: 'v1', namespaced: true },
  Service: { apiVersion: 'v1', namespaced: true },
  Endpoints: { apiVersion: 'v1', namespaced: true },
  Secret: { apiVersion: 'v1', namespaced: true },
  ConfigMap: { apiVersion: 'v1', namespaced: true },
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
  Event: { apiVersion: 'v1', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', namespaced: true },
  ReplicaSet: { apiVersion: 'apps/v1', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', namespaced: true },
  Job: { apiVersion: 'batch/v1', namespaced: true },
  CronJob: { apiVersion: 'batch/v1', namespaced: true },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', namespaced: true },
  Ingress: { apiVersion: 'networking.k8s.io/v1', namespaced: true },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', namespaced: false },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', namespaced: true },
  // Stored and served, not acted on (IGNORED-FIELDS.md): no volume binding, quota, autoscaling or RBAC
  // enforcement — but for ReplicationControllers, which the ReplicaSet controller keeps.
  PersistentVolume: { apiVersion: 'v1', namespaced: false },
  PersistentVolumeClaim: { apiVersion: 'v1', namespaced: true },
  ReplicationController: { apiVersion: 'v1', namespaced: true },
  LimitRange: { apiVersion: 'v1', namespaced: true },
  ResourceQuota: { apiVersion: 'v1', namespaced: true },
  HorizontalPodAutoscaler: { apiVersion: 'autoscaling/v2', namespaced: true },
  PodDisruptionBudget: { apiVersion: 'policy/v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: true },
  PriorityClass: { apiVersion: 'scheduling.k8s.io/v1', namespaced: false },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', namespaced: false },
} as const;

export type Kind = keyof typeof KINDS;

export function isKind(kind: string): kind is Kind {
  return Object.prototype.hasOwnProperty.call(KINDS, kind);
}

/** The store key of an object inside its kind: "ns/name" for namespaced kinds, "name" otherwise. */
export function objectKey(kind: Kind, namespace: string | undefined, name: string): string {
  return KINDS[kind].namespaced ? `${namespace ?? 'default'}/${name}` : name;
}

export function keyOf(obj: KObject): string {
  const kind = obj.kind as Kind;
  return objectKey(kind, obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** "default/web" or "node-1": how objects are named in messages. */
export function displayName(obj: KObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : `${obj.metadata?.name}`;
}
