/** Ingress status and events after a table rebuild (no sockets: a fake store and recorder). */
import { describe, expect, it } from 'vitest';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject, Kind } from '../../../dataplane/base/model/object.js';
import { nginxIngressClass } from '../../../ingress/ingress-class.js';
import { IngressReporter, type StatusWriter } from '../../../ingress/ingress-reporter.js';
import { ingressStatuses } from '../../../ingress/status.js';
import { onlyStatusChanged, TableSync } from '../../../ingress/table-sync.js';
import { ingress, nginx, path, rule } from './fixtures.js';

class FakeStore implements StatusWriter {
  writes: Array<{ name: string; status: unknown }> = [];
  constructor(private readonly f: MemoryInformerFactory) {}
  async mutate<T extends KObject>(kind: Kind, namespace: string | undefined, name: string, mutate: (current: T) => T | undefined): Promise<T | undefined> {
    const cur = this.f.informer(kind).get(namespace, name) as T | undefined;
    if (!cur) return undefined;
    const next = mutate(structuredClone(cur));
    if (next) {
      this.writes.push({ name, status: next.status });
      this.f.upsert(next); // the watch echoes the write back, as the real store does
    }
    return next;
  }
}

function setup() {
  const f = new MemoryInformerFactory();
  f.upsert(nginxIngressClass() as KObject);
  const store = new FakeStore(f);
  const events: Array<{ name: string; type: string; reason: string; message: string }> = [];
  const recorder = { record: (o: KObject, type: string, reason: string, message: string) => events.push({ name: o.metadata?.name ?? '', type, reason, message }), flush: async () => {} };
  const reporter = new IngressReporter(f.informer<Ingress & KObject>('Ingress') as never, '127.18.255.200', silentLogger, recorder, store);
  const sync = new TableSync(f, silentLogger, (t) => reporter.report(t));
  return { f, store, events, reporter, sync };
}

describe('Ingress status', () => {
  it('ingressStatuses: our served Ingresses get the controller IP', async () => {
    const { f, sync } = setup();
    f.upsert(ingress('ours', [rule('a.example', path('/', 'Prefix', 'svc'))]) as KObject);
    f.upsert(ingress('theirs', [rule('b.example', path('/', 'Prefix', 'svc'))], { className: 'traefik' }) as KObject);
    await sync.start();
    expect(ingressStatuses(sync.current(), '127.18.255.200')).toEqual([{ namespace: 'default', name: 'ours', status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } }]);
    sync.close();
  });

  it('writes status once, leaves other classes alone, and clears it when the Ingress stops being ours', async () => {
    const { f, store, reporter, sync } = setup();
    const ours = ingress('ours', [rule('a.example', path('/', 'Prefix', 'svc'))]);
    f.upsert(ours as KObject);
    f.upsert(ingress('theirs', [rule('b.example', path('/', 'Prefix', 'svc'))], { className: 'traefik' }) as KObject);
    await sync.start();
    await reporter.flush();
    await new Promise((r) => setImmediate(r));
    await reporter.flush();
    expect(store.writes).toEqual([{ name: 'ours', status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } }]);
    expect(f.informer<Ingress & KObject>('Ingress').get('default', 'ours')?.status).toEqual({ loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } });

    store.writes.length = 0;
    const moved = { ...ours, spec: { ...ours.spec, ingressClassName: 'traefik' } };
    f.upsert({ ...(f.informer('Ingress').get('default', 'ours') as KObject), spec: moved.spec });
    await new Promise((r) => setImmediate(r));
    await reporter.flush();
    expect(store.writes).toEqual([{ name: 'ours', status: { loadBalancer: {} } }]);
    sync.close();
  });

  it('a status-only update rebuilds no table; a status someone else changed is written back', async () => {
    const { f, store, reporter } = setup();
    let rebuilds = 0;
    const counted = new TableSync(
      f,
      silentLogger,
      (t) => {
        rebuilds++;
        reporter.report(t);
      },
      (ing) => reporter.statusChanged(ing),
    );
    f.upsert(ingress('ours', [rule('a.example', path('/', 'Prefix', 'svc'))]) as KObject);
    await counted.start();
    await reporter.flush();
    await new Promise((r) => setImmediate(r));
    rebuilds = 0;
    store.writes.length = 0;
    // Someone clears the status: only that Ingress is looked at, and our address goes back.
    const cur = f.informer<Ingress & KObject>('Ingress').get('default', 'ours')!;
    f.upsert({ ...cur, status: { loadBalancer: {} } } as KObject);
    await new Promise((r) => setImmediate(r));
    await reporter.flush();
    expect(rebuilds).toBe(0);
    expect(store.writes).toEqual([{ name: 'ours', status: { loadBalancer: { ingress: [{ ip: '127.18.255.200' }] } } }]);
    // A spec change still rebuilds.
    f.upsert({ ...f.informer<Ingress & KObject>('Ingress').get('default', 'ours')!, spec: ingress('ours', [rule('b.example', path('/', 'Prefix', 'svc'))]).spec } as KObject);
    await new Promise((r) => setImmediate(r));
    expect(rebuilds).toBe(1);
    counted.close();
  });

  it('onlyStatusChanged: spec, annotations and labels count; status and resourceVersion do not', () => {
    const a = { ...ingress('x', [rule('a.example', path('/', 'Prefix', 'svc'))]), status: {} } as Ingress;
    const withRv = (o: Ingress, rv: string): Ingress => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });
    expect(onlyStatusChanged(withRv(a, '1'), withRv({ ...a, status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } } }, '2'))).toBe(true);
    expect(onlyStatusChanged(a, { ...a, metadata: { ...a.metadata, annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } } })).toBe(false);
    expect(onlyStatusChanged(a, { ...a, metadata: { ...a.metadata, labels: { x: 'y' } } })).toBe(false);
    expect(onlyStatusChanged(a, { ...a, spec: { ...a.spec, ingressClassName: 'other' } })).toBe(false);
  });

  it('refused Ingresses and ignored annotations become Warning events, once per version', async () => {
    const { f, events, sync } = setup();
    f.upsert(ingress('snippet', [rule('s.example', path('/', 'Prefix', 'svc'))], { annotations: nginx({ 'server-snippet': 'x' }) }) as KObject);
    f.upsert(ingress('unknown', [rule('u.example', path('/', 'Prefix', 'svc'))], { annotations: nginx({ 'made-up': 'x' }) }) as KObject);
    await sync.start();
    await new Promise((r) => setImmediate(r)); // the status write echoes back and triggers a rebuild
    sync.rebuild();
    expect(events).toEqual([
      { name: 'unknown', type: 'Warning', reason: 'IngressWarning', message: 'unknown annotation nginx.ingress.kubernetes.io/made-up is ignored' },
      { name: 'snippet', type: 'Warning', reason: 'Rejected', message: 'Ingress is not served: nginx.ingress.kubernetes.io/server-snippet annotation cannot be used. Snippet directives are disabled by the Ingress administrator' },
    ]);
    sync.close();
  });

  it('a burst of Ingresses gets one status write each, however many rebuilds run before the watch shows them', async () => {
    const f = new MemoryInformerFactory();
    f.upsert(nginxIngressClass() as KObject);
    // A store whose writes the watch shows only later (as a busy cluster's does).
    const writes: string[] = [];
    const stored = new Map<string, KObject>();
    const store: StatusWriter = {
      async mutate<T extends KObject>(kind: Kind, namespace: string | undefined, name: string, mutate: (current: T) => T | undefined): Promise<T | undefined> {
        await new Promise((r) => setImmediate(r)); // written after the burst of rebuilds, shown by the watch never
        const cur = (stored.get(name) ?? f.informer(kind).get(namespace, name)) as T | undefined;
        const next = cur && mutate(structuredClone(cur));
        if (next) {
          writes.push(name);
          stored.set(name, next);
        }
        return next;
      },
    };
    const reporter = new IngressReporter(f.informer<Ingress & KObject>('Ingress') as never, '127.18.255.200', silentLogger, undefined, store);
    const sync = new TableSync(f, silentLogger, (t) => reporter.report(t));
    await sync.start();
    for (let i = 0; i < 40; i++) {
      f.upsert(ingress(`burst-${i}`, [rule(`b${i}.example.com`, path('/', 'Prefix', 'apple'))], { annotations: nginx({}) }) as unknown as KObject);
      sync.rebuild();
    }
    await reporter.flush();
    expect(writes.length).toBe(40);
    expect(new Set(writes).size).toBe(40);
    // The watch catches up: nothing more to write.
    for (const e of stored.values()) f.upsert(e);
    sync.rebuild();
    await reporter.flush();
    expect(writes.length).toBe(40);
    sync.close();
  });
});
