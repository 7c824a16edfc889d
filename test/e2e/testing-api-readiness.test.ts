/**
 * The pure judgements behind the test API's waits (no cluster): what counts as ready, what
 * counts as a failure that will not fix itself, what the error quotes — and the waiter that
 * re-judges on informer events.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, Event, Service } from 'kubernetes-types/core/v1.js';
import type { KObject, Kind } from '../../dataplane/base/model/object.js';
import { assessReadiness, explainSnapshot, findFailures, type Snapshot } from '../../dataplane/cluster/readiness.js';
import { waitUntil } from '../../dataplane/cluster/wait-until.js';
import { MemoryInformerFactory } from '../../dataplane/base/informer/informer-cache.js';
import { fakeClock } from '../support/fake-clock.js';

const deployment = (status: Record<string, number>, spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', generation: 1 },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, ...spec },
  status: { observedGeneration: 1, ...status },
});

const pod = (name: string, opts: { ready?: boolean; phase?: string; waiting?: string; restarts?: number; exit?: number; message?: string; app?: string } = {}): KObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: opts.app ?? 'web' } },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'x' }] },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: `127.244.1.${name.length}`,
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'app',
          image: 'x',
          imageID: '',
          ready: !!opts.ready,
          restartCount: opts.restarts ?? 0,
          state: opts.waiting ? { waiting: { reason: opts.waiting } } : opts.phase === 'Failed' ? { terminated: { exitCode: opts.exit ?? 1, reason: 'Error', message: opts.message } } : { running: {} },
          lastState: opts.exit !== undefined ? { terminated: { exitCode: opts.exit, reason: 'Error', ...(opts.message ? { message: opts.message } : {}) } } : {},
        },
      ],
    },
  }) as Pod as KObject;

const service = (name = 'web'): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }) as Service as KObject;

const slice = (ips: string[]): KObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
} as KObject);

const event = (kind: string, name: string, reason: string, message: string, type = 'Warning', at = '2030-01-01T00:00:00Z'): KObject =>
  ({ apiVersion: 'v1', kind: 'Event', metadata: { name: `${name}.1`, namespace: 'default' }, involvedObject: { kind, name, namespace: 'default' }, reason, message, type, count: 1, lastTimestamp: at }) as Event as KObject;

const snap = (objects: KObject[]): Snapshot => {
  const m = new Map<Kind, KObject[]>();
  for (const o of objects) m.set(o.kind as Kind, [...(m.get(o.kind as Kind) ?? []), o]);
  return m;
};

describe('assessReadiness', () => {
  const cases: Array<{ name: string; objects: KObject[]; cluster: KObject[]; ingress?: boolean; waiting: string[] }> = [
    { name: 'a deployment with all replicas ready and updated', objects: [deployment({})], cluster: [deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 })], waiting: [] },
    { name: 'a deployment short of ready replicas', objects: [deployment({})], cluster: [deployment({ replicas: 2, readyReplicas: 1, updatedReplicas: 2 })], waiting: ['deployment/web: 1/2 ready'] },
    { name: 'a deployment the controller has not observed yet', objects: [deployment({})], cluster: [deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, observedGeneration: 0 })], waiting: ['deployment/web: 2/2 ready'] },
    { name: 'a deployment not in the cache yet', objects: [deployment({})], cluster: [], waiting: ['deployment/web: 0/2 ready'] },
    {
      name: 'minReadySeconds: ready but not yet available',
      objects: [deployment({})],
      cluster: [deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 0 }, { minReadySeconds: 5 })],
      waiting: ['deployment/web: 2/2 ready'],
    },
    { name: 'a pod that is Ready', objects: [pod('p')], cluster: [pod('p', { ready: true })], waiting: [] },
    { name: 'a pod that ran to completion', objects: [pod('p')], cluster: [pod('p', { phase: 'Succeeded' })], waiting: [] },
    { name: 'a pod that is not ready', objects: [pod('p')], cluster: [pod('p')], waiting: ['pod/p: Running'] },
    { name: 'a service listing every ready pod', objects: [service()], cluster: [pod('a', { ready: true }), pod('bb', { ready: true }), slice(['127.244.1.1', '127.244.1.2'])], waiting: [] },
    { name: 'a service missing a ready pod', objects: [service()], cluster: [pod('a', { ready: true }), pod('bb', { ready: true }), slice(['127.244.1.1'])], waiting: ['service/web: 1/2 endpoints ready'] },
    { name: 'a service whose pods are not ready', objects: [service()], cluster: [pod('a'), slice([])], waiting: [] },
    { name: 'an ingress without a controller is not waited for', objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' } }], cluster: [], waiting: [] },
    {
      name: 'an ingress with a controller waits for its address',
      objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' } }],
      cluster: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' } }],
      ingress: true,
      waiting: ['ingress/i: no address yet (not served by the ingress controller)'],
    },
    {
      name: 'an ingress that reports its address',
      objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' } }],
      cluster: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' }, status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } } as KObject],
      ingress: true,
      waiting: [],
    },
    { name: 'kinds without a readiness notion', objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }], cluster: [], waiting: [] },
  ];
  it.each(cases)('$name', ({ objects, cluster, ingress, waiting }) => {
    expect(assessReadiness(objects, snap(cluster), { ingress }).waiting).toEqual(waiting);
  });
});

describe('findFailures', () => {
  const since = Date.parse('2029-01-01T00:00:00Z');
  const cases: Array<{ name: string; objects: KObject[]; cluster: KObject[]; failures: Array<{ object: string; reason: string; message?: RegExp }>; since?: number }> = [
    {
      name: 'a deployment pod crash-looping after 2 restarts',
      objects: [deployment({})],
      cluster: [pod('web-1', { waiting: 'CrashLoopBackOff', restarts: 2, exit: 3 })],
      failures: [{ object: 'deployment/web', reason: 'CrashLoopBackOff', message: /^pod web-1 is crash-looping: container app exited with code 3 \(Error\), restarted 2 times$/ }],
    },
    { name: 'one crash is not a loop yet', objects: [deployment({})], cluster: [pod('web-1', { waiting: 'CrashLoopBackOff', restarts: 1, exit: 3 })], failures: [] },
    { name: "another app's crash loop is not ours", objects: [deployment({})], cluster: [pod('db-1', { waiting: 'CrashLoopBackOff', restarts: 5, exit: 3, app: 'db' })], failures: [] },
    {
      name: 'a failed pod, with its termination message',
      objects: [pod('job')],
      cluster: [pod('job', { phase: 'Failed', exit: 2, message: 'listen tcp :80: bind: address already in use' })],
      failures: [{ object: 'pod/job', reason: 'Failed', message: /container app exited with code 2 \(Error\): listen tcp :80: bind: address already in use/ }],
    },
    {
      name: 'a service port the proxy cannot bind',
      objects: [service()],
      cluster: [event('Service', 'web', 'FailedToBindServicePort', 'cannot bind 127.18.0.2:30080/TCP: another program holds it')],
      failures: [{ object: 'service/web', reason: 'FailedToBindServicePort', message: /another program holds it/ }],
    },
    { name: 'a bind failure from before the wait is history', objects: [service()], cluster: [event('Service', 'web', 'FailedToBindServicePort', 'old', 'Warning', '2020-01-01T00:00:00Z')], failures: [] },
    {
      // Event times are whole seconds: one in the second the wait began (here 0.7 s into it) counts.
      name: 'a bind failure in the very second the wait began',
      objects: [service()],
      cluster: [event('Service', 'web', 'FailedToBindServicePort', 'cannot bind', 'Warning', '2029-01-01T00:00:01Z')],
      failures: [{ object: 'service/web', reason: 'FailedToBindServicePort' }],
      since: Date.parse('2029-01-01T00:00:01.700Z'),
    },
    { name: "another service's bind failure", objects: [service()], cluster: [event('Service', 'other', 'FailedToBindServicePort', 'x')], failures: [] },
    {
      name: 'an ingress the controller refuses',
      objects: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' } }],
      cluster: [event('Ingress', 'i', 'Rejected', 'Ingress is not served: no such service')],
      failures: [{ object: 'ingress/i', reason: 'Rejected', message: /no such service/ }],
    },
  ];
  it.each(cases)('$name', ({ objects, cluster, failures, since: at }) => {
    const found = findFailures(objects, snap(cluster), { since: at ?? since });
    expect(found.map((f) => ({ object: f.object, reason: f.reason }))).toEqual(failures.map((f) => ({ object: f.object, reason: f.reason })));
    failures.forEach((f, i) => f.message && expect(found[i]!.message).toMatch(f.message));
  });
});

describe('explainSnapshot', () => {
  it("quotes the events and pods of what was awaited, not the namespace's other noise", () => {
    const text = explainSnapshot(
      [deployment({})],
      snap([pod('web-1'), pod('db-1', { app: 'db' }), event('Pod', 'web-1', 'BackOff', 'Back-off restarting'), event('Pod', 'db-1', 'BackOff', 'unrelated'), event('ReplicaSet', 'web-6cc5', 'SuccessfulCreate', 'Created pod: web-1', 'Normal')]),
      ['log tail of pod/web-1 container app:', '  | boom'],
    );
    expect(text).toBe(
      [
        'last events:',
        '  Warning BackOff pod/web-1: Back-off restarting',
        '  Normal SuccessfulCreate replicaset/web-6cc5: Created pod: web-1',
        'pods:',
        '  pod/web-1 Running on node-1 ip 127.244.1.5',
        'log tail of pod/web-1 container app:',
        '  | boom',
      ].join('\n'),
    );
  });
});

describe('waitUntil', () => {
  it('re-checks on informer events and resolves with the first value', async () => {
    const informers = new MemoryInformerFactory();
    const clock = fakeClock();
    let checks = 0;
    const waiting = waitUntil(
      () => {
        checks++;
        return informers.informer('ConfigMap').get('default', 'go')?.metadata?.name;
      },
      { informers, kinds: ['ConfigMap'], timeoutMs: 5000, pollMs: 60_000, clock, onTimeout: () => new Error('timeout') },
    );
    // The first check runs on the next turn of the event loop; then time passes, short of a poll.
    while (checks === 0) await new Promise((r) => setImmediate(r));
    clock.advance(4_999);
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    informers.upsert({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'go', namespace: 'default' } });
    await expect(waiting).resolves.toBe('go');
    // Once at the start and once for the event: no polling in between.
    expect(checks).toBe(2);
  });

  it('rejects with the onTimeout error at the deadline, and with a check that throws', async () => {
    await expect(waitUntil(() => false, { timeoutMs: 50, onTimeout: async () => new Error('still waiting for x') })).rejects.toThrow('still waiting for x');
    await expect(waitUntil(() => Promise.reject(new Error('broken check')), { timeoutMs: 5000, onTimeout: () => new Error('timeout') })).rejects.toThrow('broken check');
  });

  it('stops on abort and leaves no timer behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const ac = new AbortController();
    const w = waitUntil(() => false, { timeoutMs: 60_000, signal: ac.signal, onTimeout: () => new Error('timeout') });
    ac.abort(new Error('test over'));
    await expect(w).rejects.toThrow('test over');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
  });
});
