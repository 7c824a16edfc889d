/**
 * What every part of the test API works from: the running cluster, its store, the watch the
 * waits are driven by, and the handle's defaults. KnetCluster owns one and hands it to the
 * waits (waits.ts), the addressing (addressing.ts) and the evidence (evidence.ts).
 */
import type { Cluster } from '../cluster/cluster.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { StoreInformerFactory } from '../base/store/watch.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import { KINDS, type KObject } from '../base/model/object.js';
import { resolveKind } from '../base/printers/resources.js';

export interface HandleDefaults {
  timeoutMs: number;
  failFast: boolean;
  components: { proxy: boolean; dns: boolean; ingress: boolean };
  /** The temp dir startCluster made around the cluster's own dir, removed on close. */
  tempDir?: string;
}

export interface ClusterContext {
  readonly cluster: Cluster;
  readonly store: ObjectStore;
  readonly config: ClusterConfig;
  readonly informers: StoreInformerFactory;
  readonly defaults: HandleDefaults;
}

/** `deployment/web`, `node/node-2` or a bare pod name → an object reference with kind and name. */
export function refToObject(ref: string, namespace = 'default'): KObject {
  const [kind, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : ['pod', ref];
  const k = resolveKind(kind);
  return { apiVersion: KINDS[k].apiVersion, kind: k, metadata: { name, ...(KINDS[k].namespaced ? { namespace } : {}) } };
}
