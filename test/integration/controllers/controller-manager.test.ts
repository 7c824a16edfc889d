import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Endpoints, Event, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { testClusters, until } from './harness.js';
import { deleteObject } from '../../../dataplane/base/admission/writes.js';

const clusters = testClusters();

function deployment(name: string, replicas: number, extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
      ...extra,
    },
  };
}

function service(name: string, selector?: Record<string, string>, extra: Partial<Service['spec']> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { ...(selector ? { selector } : {}), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], clusterIP: '127.96.0.50', ...extra },
  };
}

const c = clusters.current;
const appPods = (app: string) => c().pods((p) => p.metadata?.labels?.app === app);
const isReady = (p: Pod) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true;
const readyLive = (app: string) => appPods(app).filter((p) => isReady(p) && !p.metadata?.deletionTimestamp);
const slicesFor = (svc: string) => c().list<EndpointSlice>('EndpointSlice').filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === svc);
const sliceEndpoints = (svc: string) => slicesFor(svc).flatMap((s) => s.endpoints ?? []);

describe('controller-manager against a real store', () => {
  it('runs a Deployment of 3 as a ReplicaSet of 3 pods spread over 2 nodes, with 3 ready endpoints', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await c().store.create(service('web', { app: 'web' }));
    await until(() => readyLive('web').length === 3 && sliceEndpoints('web').filter((e) => e.conditions?.ready).length === 3, '3 ready endpoints');

    const sets = c().list<ReplicaSet>('ReplicaSet');
    expect(sets).toHaveLength(1);
    const hash = sets[0]!.metadata!.labels!['pod-template-hash'];
    expect(sets[0]!.metadata!.name).toBe(`web-${hash}`);
    const pods = appPods('web');
    for (const p of pods) {
      expect(p.metadata!.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(p.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: `web-${hash}`, controller: true });
    }
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([1, 2]);

    const [slice] = slicesFor('web');
    expect(slicesFor('web')).toHaveLength(1);
    expect(slice!.metadata!.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slice!.metadata!.labels).toMatchObject({ 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice!.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    for (const ep of slice!.endpoints) {
      expect(ep.conditions).toEqual({ ready: true, serving: true, terminating: false });
      expect(ep.targetRef?.kind).toBe('Pod');
      expect(ep.zone).toBe(ep.nodeName === 'node-1' ? 'zone-a' : 'zone-b');
    }
    await until(() => (c().informers.informer<Endpoints>('Endpoints').get('default', 'web')?.subsets?.[0]?.addresses?.length ?? 0) === 3, 'legacy Endpoints');

    await until(() => c().informers.informer<Deployment>('Deployment').get('default', 'web')?.status?.availableReplicas === 3, 'deployment status');
    const d = c().informers.informer<Deployment>('Deployment').get('default', 'web')!;
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(d.status?.conditions?.find((x) => x.type === 'Available')?.status).toBe('True');
    await until(async () => (await c().store.list<Event>('Event')).items.some((e) => e.reason === 'Scheduled' && /^Successfully assigned default\/web-\S+ to node-[12]$/.test(e.message ?? '')), 'Scheduled event');
  });

  it('scales 3 → 6 → 2 and keeps the slice name while endpoints follow', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await c().store.create(service('web', { app: 'web' }));
    await until(() => sliceEndpoints('web').filter((e) => e.conditions?.ready).length === 3, '3 endpoints');
    const sliceName = slicesFor('web')[0]!.metadata!.name;
    for (const n of [6, 2]) {
      await c().store.mutate<Deployment>('Deployment', 'default', 'web', (d) => ({ ...d, spec: { ...d.spec!, replicas: n } }));
      await until(() => readyLive('web').length === n && appPods('web').length === n && sliceEndpoints('web').length === n, `${n} pods and endpoints`);
      expect(sliceEndpoints('web').every((e) => e.conditions?.ready)).toBe(true);
    }
    expect(slicesFor('web').map((s) => s.metadata!.name)).toEqual([sliceName]);
    expect(c().list<ReplicaSet>('ReplicaSet')).toHaveLength(1);
  });

  it('trafficDistribution PreferClose hints each endpoint for its own zone; removing it removes the hints', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await c().store.create(service('web', { app: 'web' }, { trafficDistribution: 'PreferClose' }));
    const hinted = () => sliceEndpoints('web').filter((e) => e.conditions?.ready && e.hints?.forZones?.length === 1 && e.hints.forZones[0]!.name === e.zone);
    await until(() => hinted().length === 3, '3 endpoints hinted for their own zone');
    expect(new Set(hinted().map((e) => e.zone))).toEqual(new Set(['zone-a', 'zone-b']));
    await c().store.mutate<Service>('Service', 'default', 'web', (s) => {
      const spec = { ...s.spec! };
      delete spec.trafficDistribution;
      return { ...s, spec };
    });
    await until(() => sliceEndpoints('web').length === 3 && sliceEndpoints('web').every((e) => e.hints === undefined), 'hints removed');
  });

  it('topology-mode Auto hints endpoints in proportion to the zones’ CPU, and takes them off when a new zone cannot be served', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 4));
    const svc = service('web', { app: 'web' }, { trafficDistribution: 'PreferClose' });
    await c().store.create({ ...svc, metadata: { ...svc.metadata, annotations: { 'service.kubernetes.io/topology-mode': 'Auto' } } });
    const hinted = () => sliceEndpoints('web').filter((e) => e.conditions?.ready && e.hints?.forZones?.length === 1 && e.hints.forZones[0]!.name === e.zone);
    // Two nodes of 2 CPUs in zone-a and zone-b: two endpoints each, each for its own zone.
    await until(() => hinted().length === 4, '4 endpoints hinted for their own zone');
    expect(hinted().map((e) => e.zone).sort()).toEqual(['zone-a', 'zone-a', 'zone-b', 'zone-b']);
    const hintEvents = async () => (await c().store.list<Event>('Event')).items.filter((e) => e.involvedObject.kind === 'Service' && e.involvedObject.name === 'web' && e.reason?.startsWith('TopologyAwareHints'));
    await until(async () => (await hintEvents()).some((e) => e.reason === 'TopologyAwareHintsEnabled'), 'TopologyAwareHintsEnabled event');
    const enabled = (await hintEvents()).find((e) => e.reason === 'TopologyAwareHintsEnabled')!;
    expect(enabled).toMatchObject({ type: 'Normal', message: 'Topology Aware Hints has been enabled, addressType: IPv4', source: { component: 'endpoint-slice-controller' } });

    // A third zone: each zone's minimum is ⌈(4/3)/1.2⌉ = 2, six in all for four endpoints.
    await c().addNode('node-3', 'zone-c');
    await until(() => sliceEndpoints('web').length === 4 && sliceEndpoints('web').every((e) => e.hints === undefined), 'hints removed after the node change');
    await until(
      async () => (await hintEvents()).some((e) => e.type === 'Warning' && e.reason === 'TopologyAwareHintsDisabled' && e.message === 'Unable to allocate minimum required endpoints to each zone without exceeding overload threshold (4 endpoints, 3 zones), addressType: IPv4'),
      'TopologyAwareHintsDisabled event',
    );
  });

  it('replaces a deleted pod', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await until(() => readyLive('web').length === 3, '3 ready');
    const victim = appPods('web')[0]!;
    await deleteObject(c().store, 'Pod', 'default', victim.metadata!.name!);
    await until(() => readyLive('web').length === 3 && !appPods('web').some((p) => p.metadata!.uid === victim.metadata!.uid), 'replacement');
    expect(appPods('web').map((p) => p.metadata!.name)).not.toContain(victim.metadata!.name);
  });

  it('rolls out with maxUnavailable 0 without ever dropping below the replica count of Ready pods', async () => {
    await clusters.start({ agent: { readyDelayMs: 150 } });
    await c().store.create(deployment('web', 3, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await until(() => readyLive('web').length === 3, '3 ready');
    let min = Infinity;
    const off = c().informers.informer<Pod>('Pod').on({ update: () => (min = Math.min(min, readyLive('web').length)), delete: () => (min = Math.min(min, readyLive('web').length)) });
    const updated = await c().store.mutate<Deployment>('Deployment', 'default', 'web', (d) => {
      const t = d.spec!.template;
      return { ...d, spec: { ...d.spec!, template: { ...t, metadata: { ...t.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
    });
    expect(updated?.metadata?.generation).toBe(2);
    await until(() => {
      const d = c().informers.informer<Deployment>('Deployment').get('default', 'web');
      const progressing = d?.status?.conditions?.find((x) => x.type === 'Progressing');
      return d?.status?.observedGeneration === 2 && c().list<ReplicaSet>('ReplicaSet').length === 2 && d?.status?.updatedReplicas === 3 && d.status.replicas === 3 && d.status.availableReplicas === 3 && progressing?.reason === 'NewReplicaSetAvailable' && appPods('web').length === 3;
    }, 'rollout complete');
    off();
    expect(min).toBeGreaterThanOrEqual(3);
    const sets = c().list<ReplicaSet>('ReplicaSet');
    expect(sets).toHaveLength(2);
    expect(sets.map((s) => s.spec?.replicas).sort()).toEqual([0, 3]);
    const d = c().informers.informer<Deployment>('Deployment').get('default', 'web')!;
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(appPods('web').every((p) => p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'])).toBe(true);
  });

  it('starts a StatefulSet in order with stable names, hostnames and subdomain', async () => {
    await clusters.start({ agent: { readyDelayMs: 100 } });
    const createdWhileEarlierReady: boolean[] = [];
    c().informers.informer<Pod>('Pod').on({
      add: (p) => {
        const m = /^web-(\d+)$/.exec(p.metadata?.name ?? '');
        if (!m || m[1] === '0') return;
        const prev = c().informers.informer<Pod>('Pod').get('default', `web-${Number(m[1]) - 1}`);
        createdWhileEarlierReady.push(!!prev && isReady(prev));
      },
    });
    await c().store.create(service('nginx', { app: 'db' }, { clusterIP: 'None' }));
    await c().store.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        serviceName: 'nginx',
        replicas: 3,
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 80 }] }] } },
      },
    });
    await until(() => readyLive('db').length === 3, '3 stateful pods ready');
    expect(appPods('db').map((p) => p.metadata!.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(createdWhileEarlierReady).toEqual([true, true]);
    for (const p of appPods('db')) {
      expect(p.spec).toMatchObject({ hostname: p.metadata!.name, subdomain: 'nginx' });
      expect(p.metadata!.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': p.metadata!.name, 'apps.kubernetes.io/pod-index': p.metadata!.name!.slice(4) });
    }
    await until(() => sliceEndpoints('nginx').length === 3, 'headless slice');
    expect(sliceEndpoints('nginx').map((e) => e.hostname).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(slicesFor('nginx')[0]!.metadata!.labels).toHaveProperty('service.kubernetes.io/headless', '');

    // A deleted member comes back with the same name.
    const uid = c().informers.informer<Pod>('Pod').get('default', 'web-1')!.metadata!.uid;
    await deleteObject(c().store, 'Pod', 'default', 'web-1');
    await until(() => {
      const p = c().informers.informer<Pod>('Pod').get('default', 'web-1');
      return !!p && p.metadata!.uid !== uid && isReady(p);
    }, 'web-1 recreated');
  });

  it('runs one DaemonSet pod per node, follows new and removed nodes', async () => {
    await clusters.start();
    await c().store.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'a', image: 'busybox' }] } },
      },
    });
    const nodesOf = () => appPods('agent').filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.spec!.nodeName).sort();
    await until(() => JSON.stringify(nodesOf()) === JSON.stringify(['node-1', 'node-2']), 'one pod per node');
    await c().addNode('node-3');
    await until(() => JSON.stringify(nodesOf()) === JSON.stringify(['node-1', 'node-2', 'node-3']), 'pod on node-3');
    await deleteObject(c().store, 'Node', undefined, 'node-3');
    await until(() => appPods('agent').length === 2, 'pod of removed node gone');
  });

  it('marks a silent node NotReady, its pods not ready and their endpoints ready=false, and back', async () => {
    await clusters.start({ graceSeconds: 1 });
    await c().store.create(deployment('web', 4));
    await c().store.create(service('web', { app: 'web' }));
    await until(() => sliceEndpoints('web').filter((e) => e.conditions?.ready).length === 4, '4 ready endpoints');
    c().stopped.add('node-2');
    const node2 = () => c().informers.informer<Node>('Node').get(undefined, 'node-2')!;
    await until(() => node2().status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown', 'node-2 NotReady');
    expect(node2().status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(node2().spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    await until(() => sliceEndpoints('web').every((e) => e.conditions?.ready === (e.nodeName === 'node-1')), 'node-2 endpoints not ready');
    expect(sliceEndpoints('web').filter((e) => e.nodeName === 'node-2')).toHaveLength(2);
    // Pods are not evicted.
    expect(appPods('web')).toHaveLength(4);

    c().stopped.delete('node-2');
    await until(() => node2().status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True' && !node2().spec?.taints?.length, 'node-2 Ready again');
    await until(() => sliceEndpoints('web').filter((e) => e.conditions?.ready).length === 4, 'endpoints ready again');
  });

  it('mirrors a user Endpoints of a selector-less Service into an EndpointSlice and never touches the Endpoints', async () => {
    await clusters.start();
    await c().store.create(service('db', undefined, { ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
    const ep: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'db', namespace: 'default', labels: { team: 'data' } },
      subsets: [{ addresses: [{ ip: '127.0.0.1' }], notReadyAddresses: [{ ip: '127.0.0.2' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }],
    };
    const created = await c().store.create(ep);
    await until(() => slicesFor('db').length === 1, 'mirrored slice');
    const [slice] = slicesFor('db');
    expect(slice!.metadata!.labels).toMatchObject({ team: 'data', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    expect(slice!.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'db' });
    expect(slice!.ports).toEqual([{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    expect(slice!.endpoints).toEqual([
      { addresses: ['127.0.0.1'], conditions: { ready: true } },
      { addresses: ['127.0.0.2'], conditions: { ready: false } },
    ]);

    await c().store.mutate<Endpoints>('Endpoints', 'default', 'db', (e) => ({ ...e, subsets: [{ addresses: [{ ip: '127.0.0.1' }, { ip: '127.0.0.3' }], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }] }));
    await until(() => slicesFor('db')[0]?.endpoints.length === 2 && slicesFor('db')[0]!.endpoints.every((e) => e.conditions?.ready), 'mirror updated');
    expect(slicesFor('db')[0]!.metadata!.name).toBe(slice!.metadata!.name);
    // The user's Endpoints is untouched by the Endpoints controller.
    const stored = (await c().store.get<Endpoints>('Endpoints', 'default', 'db'))!;
    expect(stored.metadata?.labels).toEqual({ team: 'data' });
    expect(Number(stored.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));

    await deleteObject(c().store, 'Endpoints', 'default', 'db');
    await until(() => slicesFor('db').length === 0, 'mirror removed');
  });

  it('leaves an unschedulable pod Pending with PodScheduled=False and a FailedScheduling event', async () => {
    await clusters.start();
    await c().store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'picky', namespace: 'default' }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'nginx' }] } });
    const pod = () => c().informers.informer<Pod>('Pod').get('default', 'picky');
    await until(() => pod()?.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False') === true, 'unschedulable condition');
    expect(pod()!.status!.conditions!.find((x) => x.type === 'PodScheduled')).toMatchObject({ reason: 'Unschedulable', message: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.." });
    expect(pod()!.spec!.nodeName).toBeUndefined();
    await until(async () => (await c().store.list<Event>('Event')).items.some((e) => e.reason === 'FailedScheduling' && e.type === 'Warning'), 'FailedScheduling event');
    // Labelling a node makes it fit.
    await c().store.mutate<Node>('Node', undefined, 'node-2', (n) => ({ ...n, metadata: { ...n.metadata, labels: { ...n.metadata?.labels, disk: 'ssd' } } }));
    await until(() => pod()?.spec?.nodeName === 'node-2', 'scheduled once a node fits');
  });

  it('carries on after the store is SIGKILLed and restarted', async () => {
    await clusters.start({ graceSeconds: 2 });
    await c().store.create(deployment('web', 2));
    await until(() => readyLive('web').length === 2, '2 ready');
    await clusters.crashRedis();
    await c().store.mutate<Deployment>('Deployment', 'default', 'web', (d) => ({ ...d, spec: { ...d.spec!, replicas: 4 } }));
    await until(() => readyLive('web').length === 4 && appPods('web').length === 4, '4 ready after the restart');
    // No node was judged on heartbeats it could not have written while the store was down.
    const nodes = c().list<Node>('Node');
    expect(nodes.every((n) => n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True')).toBe(true);
  });

  it('garbage-collects a pod whose controller owner is gone', async () => {
    await clusters.start();
    await c().store.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', namespace: 'default', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'no-such-uid', controller: true }] },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    await until(() => !c().informers.informer<Pod>('Pod').get('default', 'orphan'), 'orphan collected');
  });
});
