/**
 * kubectl delete's cascade strategies through knet's apiserver and garbage collector, with
 * the real kubectl: --cascade=foreground (propagationPolicy=Foreground) waits until the pods and
 * the ReplicaSet are gone before the Deployment goes; --cascade=orphan leaves the ReplicaSet,
 * then the pods, running without ownerReferences; a namespace's deletion empties it first.
 */
import { describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
const { ok } = kubectlCluster({}, { started: (k) => ({ cluster } = k) });

const deployment = (name: string, replicas: number, namespace = 'default') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'] }] } },
  },
});

describe('kubectl delete --cascade', () => {
  it('foreground: kubectl returns once the Deployment is gone, which is after its pods and its ReplicaSet', async () => {
    await cluster.apply(deployment('fg', 2));
    const order: string[] = [];
    let sawFinalizer = false;
    const offs = ['Pod', 'ReplicaSet', 'Deployment'].map((kind) =>
      cluster.watch(kind, {
        update: (_o, n) => {
          if (kind === 'Deployment' && n.metadata?.name === 'fg' && n.metadata.finalizers?.includes('foregroundDeletion')) sawFinalizer = true;
        },
        delete: (o) => (o.metadata?.labels?.app === 'fg' || o.metadata?.name === 'fg') && order.push(kind),
      }),
    );
    expect(await ok('delete', 'deployment', 'fg', '--cascade=foreground')).toContain('deployment.apps "fg" deleted');
    for (const off of offs) off();
    expect(sawFinalizer).toBe(true);
    // kubectl waited: everything is gone already, and the Deployment went last.
    expect(order.filter((k) => k === 'Pod')).toHaveLength(2);
    expect(order.slice(-2)).toEqual(['ReplicaSet', 'Deployment']);
    expect(await cluster.get('pod', undefined, 'default', { labelSelector: 'app=fg' })).toEqual([]);
  });

  it('orphan: the ReplicaSet stays without ownerReferences; orphaning it leaves the pods running without any', async () => {
    await cluster.apply(deployment('orph', 2));
    const [rs] = await cluster.get<ReplicaSet>('replicaset', undefined, 'default', { labelSelector: 'app=orph' });
    expect(await ok('delete', 'deployment', 'orph', '--cascade=orphan')).toContain('deployment.apps "orph" deleted');
    expect(await cluster.get('deployment', 'orph')).toBeUndefined();
    const kept = await cluster.get<ReplicaSet>('replicaset', rs!.metadata!.name!);
    expect(kept?.metadata?.ownerReferences).toBeUndefined();
    expect(await ok('get', 'rs', rs!.metadata!.name!, '-o', 'jsonpath={.metadata.ownerReferences}')).toBe('');

    await ok('delete', 'rs', rs!.metadata!.name!, '--cascade=orphan');
    const pods = await cluster.get<Pod>('pod', undefined, 'default', { labelSelector: 'app=orph' });
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.ownerReferences).toBeUndefined();
      expect(p.metadata?.deletionTimestamp).toBeUndefined();
    }
    expect(await ok('get', 'pods', '-l', 'app=orph', '-o', 'jsonpath={.items[*].metadata.ownerReferences}')).toBe('');
    // Bare pods now: deleting them is the user's, one by one.
    await ok('delete', 'pods', '-l', 'app=orph', '--wait=false');
  });

  it('a namespace is emptied, then goes; kubectl waits for it', async () => {
    await ok('create', 'namespace', 'shop');
    await cluster.apply(deployment('web', 1, 'shop'));
    await ok('create', 'configmap', 'settings', '-n', 'shop', '--from-literal=a=b');
    expect(await ok('delete', 'namespace', 'shop')).toContain('namespace "shop" deleted');
    expect(await cluster.get('namespace', 'shop')).toBeUndefined();
    expect(await cluster.get('pod', undefined, 'shop')).toEqual([]);
    expect(await cluster.get('configmap', undefined, 'shop')).toEqual([]);
  });
});
