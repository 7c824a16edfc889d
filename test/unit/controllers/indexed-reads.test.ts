/**
 * Reconciles read what they are about and nothing else: every object a controller takes
 * from its informer caches (list, get, byIndex — client-go's "store") is counted, and a
 * reconcile of one Service touches only its own pods and slices, a ReplicaSet's only the pods
 * of its Deployment — however many other pods, Services and slices the cluster holds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import type { Informer, InformerFactory } from '../../../dataplane/base/informer/informer-types.js';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import { realClock } from '../../../dataplane/base/clock.js';
import { noopRecorder } from '../../../dataplane/base/admission/events.js';
import type { KObject, Kind } from '../../../dataplane/base/model/object.js';
import type { ObjectStore } from '../../../dataplane/base/store/object-store.js';
import { ControllerWrites, type Controller, type ControllerContext } from '../../../dataplane/controllers/controller-context.js';
import { Expectations } from '../../../dataplane/controllers/expectations.js';
import { startEndpointSliceController } from '../../../dataplane/controllers/endpointslice.js';
import { startEndpointsController } from '../../../dataplane/controllers/endpoints.js';
import { startReplicaSetController } from '../../../dataplane/controllers/replicaset.js';
import { deployment, node, pod, replicaSet, service } from './fixtures.js';

/** Informers whose every handed-out object is counted, by kind and name. */
class CountingInformers implements InformerFactory {
  readonly reads = new Map<Kind, string[]>();
  lists = 0;
  constructor(readonly inner: MemoryInformerFactory) {}

  informer<T extends KObject>(kind: Kind): Informer<T> {
    const inner = this.inner.informer<T>(kind);
    const count = (objs: T[]) => {
      const list = this.reads.get(kind) ?? [];
      for (const o of objs) list.push(`${o.metadata?.namespace}/${o.metadata?.name}`);
      this.reads.set(kind, list);
      return objs;
    };
    return Object.assign(Object.create(inner) as Informer<T>, {
      list: () => {
        this.lists++;
        return count(inner.list());
      },
      get: (ns: string | undefined, name: string) => {
        const o = inner.get(ns, name);
        if (o) count([o]);
        return o;
      },
      byIndex: (index: string, value: string) => count(inner.byIndex(index, value)),
    });
  }

  waitForSync = async () => {};

  reset(): void {
    this.reads.clear();
    this.lists = 0;
  }

  read(kind: Kind): string[] {
    return [...new Set(this.reads.get(kind) ?? [])].sort();
  }
}

/** Controller writes that land in the memory informers at once, as a watch would bring them back. */
class MemoryWrites extends ControllerWrites {
  /** "Kind/name" of every write, in order. */
  readonly log: string[] = [];
  constructor(
    private readonly informers: MemoryInformerFactory,
    expectations: Expectations,
  ) {
    super(undefined as unknown as ObjectStore, expectations);
  }

  override async create<T extends KObject>(controllerKey: string, obj: T): Promise<T> {
    const stored = { ...obj, metadata: { namespace: 'default', uid: `uid-${obj.metadata?.name}`, ...obj.metadata } } as T;
    return this.write(controllerKey, stored);
  }

  override async mutate<T extends KObject>(controllerKey: string, kind: Kind, namespace: string | undefined, name: string, fn: (current: T) => T | undefined): Promise<T | undefined> {
    const current = this.informers.informer<T>(kind).get(namespace, name);
    const next = current && fn(structuredClone(current));
    return next ? this.write(controllerKey, { ...next, kind }) : current;
  }

  override async delete(controllerKey: string, kind: Kind, namespace: string | undefined, name: string): Promise<void> {
    const current = this.informers.informer(kind).get(namespace, name);
    if (current) this.informers.remove(current);
    this.expectations.expectDelete(controllerKey, kind, namespace, name);
    this.log.push(`delete ${kind}/${name}`);
  }

  private write<T extends KObject>(controllerKey: string, obj: T): T {
    this.informers.upsert(obj);
    const stored = this.informers.informer<T>(obj.kind as Kind).get(obj.metadata?.namespace, obj.metadata!.name!)!;
    this.expectations.expectWrite(controllerKey, stored);
    this.log.push(`${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`);
    return stored;
  }
}

const running: Controller[] = [];
// The queues' timers are faked so "every reconcile has run" is a state to reach, not a time to wait.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
});
afterEach(async () => {
  for (const c of running.splice(0)) await c.close();
  vi.useRealTimers();
});
/** Runs queued reconciles, and what they queue, until none is left. */
const settle = () => vi.runAllTimersAsync();

function setup() {
  const memory = new MemoryInformerFactory();
  const informers = new CountingInformers(memory);
  const expectations = new Expectations((kind) => memory.informer(kind));
  for (const kind of ['Pod', 'EndpointSlice', 'Endpoints', 'ReplicaSet'] as Kind[]) expectations.track(kind);
  const writes = new MemoryWrites(memory, expectations);
  const ctx: ControllerContext = { store: undefined as unknown as ObjectStore, informers, config: clusterConfig(0), log: silentLogger, recorder: () => noopRecorder, writes, now: () => Date.now(), clock: realClock };
  return { memory, informers, writes, ctx };
}

/** Services web-0…web-{n-1} in two namespaces, each selecting its own `per` ready pods. */
function manyServices(memory: MemoryInformerFactory, n: number, per: number): void {
  memory.upsert(node('node-1'));
  let ip = 0;
  for (const ns of ['default', 'shop']) {
    for (let s = 0; s < n; s++) {
      const svc = service(`web-${s}`, { selector: { app: `web-${s}`, tier: 'fe' } });
      memory.upsert({ ...svc, metadata: { ...svc.metadata, namespace: ns, uid: `uid-${ns}-web-${s}` } });
      for (let i = 0; i < per; i++) {
        memory.upsert(pod(`web-${s}-${i}`, { ns, labels: { app: `web-${s}`, tier: 'fe' }, node: 'node-1', ready: true, ip: `10.1.${Math.floor(ip / 250)}.${(ip++ % 250) + 1}`, ports: [{ containerPort: 8080 }] }));
      }
    }
  }
}

const readyFlip = (p: Pod): Pod => ({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } });

describe('a reconcile reads only its own objects', () => {
  it('EndpointSlice controller: one Service’s reconcile reads its own pods and slices only', async () => {
    const { memory, informers, writes, ctx } = setup();
    manyServices(memory, 20, 5);
    running.push(startEndpointSliceController(ctx));
    await settle();
    expect(memory.informer('EndpointSlice').list()).toHaveLength(40);

    informers.reset();
    writes.log.length = 0;
    memory.upsert(readyFlip(memory.informer<Pod>('Pod').get('default', 'web-3-0')!));
    await settle(); // the reconcile the slice write wakes again is counted too
    expect(writes.log).toEqual([expect.stringMatching(/^EndpointSlice\/default\/web-3-/)]);

    const ownPods = Array.from({ length: 5 }, (_, i) => `default/web-3-${i}`);
    expect(informers.read('Pod')).toEqual(ownPods);
    const slices = informers.read('EndpointSlice');
    expect(slices.length).toBeGreaterThan(0);
    expect(slices.every((s) => s.startsWith('default/web-3-'))).toBe(true);
    expect(informers.read('Service')).not.toContain('shop/web-3');
    expect(informers.lists).toBe(0);
  });

  it('Endpoints controller: one Service’s reconcile reads its own pods only', async () => {
    const { memory, informers, writes, ctx } = setup();
    manyServices(memory, 20, 5);
    running.push(startEndpointsController(ctx));
    await settle();
    expect(memory.informer('Endpoints').list()).toHaveLength(40);

    informers.reset();
    writes.log.length = 0;
    memory.upsert(readyFlip(memory.informer<Pod>('Pod').get('shop', 'web-7-2')!));
    await settle();
    expect(writes.log).toEqual(['Endpoints/shop/web-7']);

    expect(informers.read('Pod')).toEqual(Array.from({ length: 5 }, (_, i) => `shop/web-7-${i}`));
    expect(informers.read('Endpoints')).toEqual(['shop/web-7']);
    expect(informers.lists).toBe(0);
  });

  it('ReplicaSet controller: a ReplicaSet’s reconcile reads the pods of its Deployment only', async () => {
    const { memory, informers, writes, ctx } = setup();
    const d = deployment(3);
    const rsA = replicaSet('web-a', 3, { owner: d });
    const rsB = replicaSet('web-b', 2, { owner: d, uid: 'uid-web-b' });
    memory.upsert(rsA);
    memory.upsert(rsB);
    for (let i = 0; i < 3; i++) memory.upsert(pod(`web-a-${i}`, { owner: rsA, node: 'node-1', ready: true }));
    for (let i = 0; i < 2; i++) memory.upsert(pod(`web-b-${i}`, { owner: rsB, node: 'node-1', ready: true }));
    for (let r = 0; r < 30; r++) {
      const other = replicaSet(`other-${r}`, 3, { uid: `uid-other-${r}` });
      memory.upsert(other);
      for (let i = 0; i < 3; i++) memory.upsert(pod(`other-${r}-${i}`, { owner: other, node: 'node-1', ready: true }));
    }
    running.push(startReplicaSetController(ctx));
    await settle();

    informers.reset();
    writes.log.length = 0;
    const scaled: ReplicaSet = { ...memory.informer<ReplicaSet>('ReplicaSet').get('default', 'web-a')!, spec: { ...rsA.spec!, replicas: 4 } };
    memory.upsert(scaled);
    await settle();
    expect(writes.log).toEqual([expect.stringMatching(/^Pod\/default\/web-a-/), 'ReplicaSet/default/web-a']);

    const read = informers.read('Pod');
    expect(read.length).toBeGreaterThanOrEqual(5);
    expect(read.every((p) => /^default\/web-[ab]-/.test(p))).toBe(true);
    expect(informers.read('ReplicaSet').every((r) => /^default\/web-[ab]$/.test(r))).toBe(true);
    expect(informers.lists).toBe(0);
  });
});
