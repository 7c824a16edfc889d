/** Small builders for controller unit tests. */
import type { Deployment, DeploymentStrategy, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, PodTemplateSpec, Service } from 'kubernetes-types/core/v1.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

export const T0 = Date.parse('2024-01-01T00:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  node?: string;
  phase?: string;
  ready?: boolean;
  readySince?: number;
  ip?: string;
  deleting?: boolean;
  created?: number;
  owner?: KObject;
  restarts?: number;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  hostname?: string;
  subdomain?: string;
  uid?: string;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: o.uid ?? `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: iso(o.created ?? T0),
      ...(o.deleting ? { deletionTimestamp: iso(T0 + 30_000) } : {}),
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: o.owner.apiVersion ?? '', kind: o.owner.kind ?? '', name: o.owner.metadata!.name!, uid: o.owner.metadata!.uid!, controller: true }] }
        : {}),
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: 'c', image: 'x', ...(o.ports ? { ports: o.ports } : {}) }],
    },
    status: {
      phase: o.phase ?? (o.node ? 'Running' : 'Pending'),
      ...(o.ip ? { podIP: o.ip } : {}),
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: iso(o.readySince ?? T0) }],
      containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: !!o.ready, restartCount: o.restarts ?? 0 }],
    },
  };
}

export function node(name: string, o: { ready?: boolean | 'Unknown'; labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean } = {}): Node {
  const status = o.ready === 'Unknown' ? 'Unknown' : o.ready === false ? 'False' : 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, labels: { 'kubernetes.io/hostname': name, ...o.labels }, creationTimestamp: iso(T0) },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { conditions: [{ type: 'Ready', status }] },
  };
}

export function replicaSet(name: string, replicas: number, o: { uid?: string; minReadySeconds?: number; owner?: KObject; created?: number; annotations?: Record<string, string>; template?: PodTemplateSpec } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: o.uid ?? `uid-${name}`,
      generation: 1,
      creationTimestamp: iso(o.created ?? T0),
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind ?? '', name: o.owner.metadata!.name!, uid: o.owner.metadata!.uid!, controller: true }] } : {}),
    },
    spec: {
      replicas,
      minReadySeconds: o.minReadySeconds ?? 0,
      selector: { matchLabels: { app: 'web' } },
      template: o.template ?? { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  };
}

export function deployment(replicas: number, strategy?: DeploymentStrategy, extra: Partial<NonNullable<Deployment['spec']>> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-deploy', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1' }] } },
      ...(strategy ? { strategy } : {}),
      ...extra,
    },
  };
}

export function service(name: string, spec: Partial<NonNullable<Service['spec']>> = {}, labels?: Record<string, string>): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `uid-svc-${name}`, ...(labels ? { labels } : {}) },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  };
}
