import { describe, expect, it } from 'vitest';
import { nodeLease, NODE_LEASE_RENEW_MS } from '../../../dataplane/node/node-lease.js';
import { leaderLease } from '../../../dataplane/controllers/leader-leases.js';
import { componentStatus } from '../../../dataplane/apiserver/component-statuses.js';

const T = '2026-01-01T00:00:00.000000Z';
const T2 = '2026-01-01T00:00:10.000000Z';

describe("leases as the kubelet and leader election keep them", () => {
  it("a node's lease: kube-node-lease/<node>, held by the node for 40 s, renewed every 10 s, owned by the Node", () => {
    const node = { metadata: { name: 'node-1', uid: 'u1' } };
    const lease = nodeLease(node, T);
    expect(lease).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'node-1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'u1' }] },
      spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: T },
    });
    expect(NODE_LEASE_RENEW_MS).toBe(10_000);
    const renewed = nodeLease(node, T2, { ...lease, metadata: { ...lease.metadata, resourceVersion: '7', uid: 'l1' } });
    expect(renewed.metadata).toMatchObject({ resourceVersion: '7', uid: 'l1' });
    expect(renewed.spec?.renewTime).toBe(T2);
  });

  it('a leader lease keeps its acquireTime while held and counts a change of holder', () => {
    const first = leaderLease('kube-scheduler', 'host_a', T);
    expect(first.spec).toEqual({ holderIdentity: 'host_a', leaseDurationSeconds: 15, acquireTime: T, renewTime: T, leaseTransitions: 0 });
    expect(leaderLease('kube-scheduler', 'host_a', T2, first).spec).toMatchObject({ acquireTime: T, renewTime: T2, leaseTransitions: 0 });
    expect(leaderLease('kube-scheduler', 'host_b', T2, first).spec).toMatchObject({ holderIdentity: 'host_b', acquireTime: T2, leaseTransitions: 1 });
  });

  it('componentstatuses: healthy while the lease is renewed in time; etcd from the store', () => {
    const now = Date.parse(T2);
    const lease = leaderLease('kube-scheduler', 'host_a', T);
    const seen = (l: typeof lease | undefined, storeReady = true) => ({ storeReady, lease: () => l, nowMs: now });
    expect(componentStatus('scheduler', seen(lease)).conditions).toEqual([{ type: 'Healthy', status: 'True', message: 'ok' }]);
    expect(componentStatus('scheduler', { ...seen(lease), nowMs: now + 30_000 }).conditions[0]).toMatchObject({ status: 'False', error: 'lease kube-system/kube-scheduler not renewed for 40s (leaseDurationSeconds 15)' });
    expect(componentStatus('controller-manager', seen(undefined)).conditions[0]).toMatchObject({ status: 'False', error: 'lease kube-system/kube-controller-manager not found: no controller-manager has run' });
    expect(componentStatus('etcd-0', seen(undefined)).conditions[0]).toMatchObject({ status: 'True', message: 'ok' });
    expect(componentStatus('etcd-0', seen(undefined, false)).conditions[0]).toMatchObject({ status: 'False' });
  });
});
