/**
 * The node's Lease, as the kubelet keeps it (pkg/kubelet/nodelease over
 * k8s.io/component-helpers/apimachinery/lease): `kube-node-lease/<node>`, held by the node,
 * 40 s long, its renewTime moved every 10 s (a quarter of the duration), owned by the Node so it
 * goes with it. `kubectl describe node` shows it under Lease; `kubectl get leases -A` lists it.
 * The node lifecycle controller still reads knet's cheaper heartbeats; the Lease is what a user
 * (or a program watching leases) sees.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import { StoreError } from '../base/store/errors.js';
import { microTime } from '../base/model/meta-time.js';
import type { KObject } from '../base/model/object.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_LEASE_DURATION_SECONDS = 40;
/** renewInterval = 0.25 × the lease duration (kubelet's nodeLeaseRenewIntervalFraction). */
export const NODE_LEASE_RENEW_MS = (NODE_LEASE_DURATION_SECONDS * 1000) / 4;

/** The lease as the kubelet writes it at `now`: the prior one renewed, or a new one. */
export function nodeLease(node: Pick<Node, 'metadata'>, now: string, prior?: Lease): Lease {
  const name = node.metadata!.name!;
  const owner = node.metadata?.uid ? [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid }] : undefined;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...prior?.metadata, name, namespace: NODE_LEASE_NAMESPACE, ...(owner ? { ownerReferences: owner } : {}) },
    spec: { ...prior?.spec, holderIdentity: name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: now },
  };
}

/** Creates or renews the node's lease (a failed write throws; the next renewal tries again). */
export async function renewNodeLease(store: ObjectStore, node: Pick<Node, 'metadata'>, now = microTime()): Promise<void> {
  const name = node.metadata!.name!;
  const renewed = await store.mutate<Lease>('Lease', NODE_LEASE_NAMESPACE, name, (prior) => nodeLease(node, now, prior) as Lease);
  if (renewed) return;
  try {
    await store.create(nodeLease(node, now) as KObject);
  } catch (err) {
    // Another writer created it meanwhile: the next renewal updates it.
    if (!(err instanceof StoreError && err.reason === 'AlreadyExists')) throw err;
  }
}
