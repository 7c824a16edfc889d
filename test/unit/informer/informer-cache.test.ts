/**
 * Informers as client-go has them: named indexes kept on add/update/delete and relist,
 * declared late or twice, and the replay of cached objects to a handler added later
 * (AddEventHandler), flagged isInInitialList.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { InformerCache, MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import {
  controlledBy,
  indexByOwner,
  indexPodsByNode,
  indexSlicesByService,
  inNamespace,
  labelIndexName,
  NAMESPACE_INDEX,
  NODE_NAME_INDEX,
  OWNER_UID_INDEX,
  podsOnNode,
  selectByLabels,
  SERVICE_NAME_INDEX,
  slicesOfService,
} from '../../../dataplane/base/informer/indexes.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

let rv = 0;
const pod = (name: string, o: { ns?: string; node?: string; labels?: Record<string, string>; owners?: string[] } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: o.ns ?? 'default',
    uid: `uid-${name}`,
    resourceVersion: String(++rv),
    labels: o.labels ?? {},
    ...(o.owners ? { ownerReferences: o.owners.map((uid, i) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${uid}`, uid, controller: i === 0 })) } : {}),
  },
  spec: { containers: [], ...(o.node ? { nodeName: o.node } : {}) },
});
const slice = (name: string, service: string | undefined, ns = 'default'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: ns, resourceVersion: String(++rv), labels: service ? { 'kubernetes.io/service-name': service } : {} },
  addressType: 'IPv4',
  endpoints: [],
});
const names = (objs: KObject[]) => objs.map((o) => o.metadata?.name).sort();

describe('informer indexes', () => {
  it('keeps byIndex right through add, update, delete and relist', () => {
    const cache = new InformerCache<Pod>('Pod');
    indexPodsByNode(cache);
    cache.replace([pod('a', { node: 'node-1' }), pod('b', { node: 'node-1' }), pod('c')]);
    expect(names(podsOnNode(cache, 'node-1'))).toEqual(['a', 'b']);
    cache.apply('MODIFIED', pod('b', { node: 'node-2' }));
    cache.apply('ADDED', pod('d', { node: 'node-2' }));
    expect(names(podsOnNode(cache, 'node-1'))).toEqual(['a']);
    expect(names(podsOnNode(cache, 'node-2'))).toEqual(['b', 'd']);
    cache.apply('DELETED', pod('d', { node: 'node-2' }));
    expect(names(podsOnNode(cache, 'node-2'))).toEqual(['b']);
    // A relist that dropped a, moved c onto node-1 and kept b.
    cache.replace([pod('b', { node: 'node-2' }), pod('c', { node: 'node-1' })]);
    expect(names(podsOnNode(cache, 'node-1'))).toEqual(['c']);
    expect(cache.indexValues(NODE_NAME_INDEX).sort()).toEqual(['node-1', 'node-2']);
    expect(cache.countByIndex(NODE_NAME_INDEX, 'node-9')).toBe(0);
  });

  it('has the namespace index always, and builds an index declared after objects are cached', () => {
    const cache = new InformerCache<Pod>('Pod');
    cache.replace([pod('a', { ns: 'shop' }), pod('b'), pod('c', { ns: 'shop', owners: ['rs-1', 'rs-2'] })]);
    expect(names(inNamespace(cache, 'shop'))).toEqual(['a', 'c']);
    expect(cache.byIndex(NAMESPACE_INDEX, 'default').map((p) => p.metadata?.name)).toEqual(['b']);
    indexByOwner(cache);
    expect(names(cache.byIndex(OWNER_UID_INDEX, 'rs-2'))).toEqual(['c']);
    // controlledBy only counts the reference marked controller.
    expect(names(controlledBy(cache, { metadata: { uid: 'rs-1' } }))).toEqual(['c']);
    expect(controlledBy(cache, { metadata: { uid: 'rs-2' } })).toEqual([]);
  });

  it('lets several consumers declare the same index, refuses another function under its name, and names an undeclared one', () => {
    const cache = new InformerCache<Pod>('Pod');
    indexByOwner(cache);
    indexByOwner(cache);
    expect(() => cache.addIndexers({ [OWNER_UID_INDEX]: () => [] })).toThrow(/index "metadata.ownerReferences.uid" is already declared/);
    expect(() => cache.byIndex('nope', 'x')).toThrow(/informer Pod: no index named "nope"/);
  });

  it('files EndpointSlices under their Service, per namespace', () => {
    const cache = indexSlicesByService(new InformerCache<EndpointSlice>('EndpointSlice'));
    cache.replace([slice('web-1', 'web'), slice('web-2', 'web'), slice('web-x', 'web', 'shop'), slice('db-1', 'db'), slice('loose', undefined)]);
    expect(names(slicesOfService(cache, 'default', 'web'))).toEqual(['web-1', 'web-2']);
    expect(names(slicesOfService(cache, 'shop', 'web'))).toEqual(['web-x']);
    cache.apply('MODIFIED', slice('web-2', 'db'));
    expect(names(slicesOfService(cache, 'default', 'db'))).toEqual(['db-1', 'web-2']);
    expect(cache.indexValues(SERVICE_NAME_INDEX).sort()).toEqual(['default/db', 'default/web', 'shop/web']);
  });

  it('selects by labels through the rarest key’s index, declared on demand', () => {
    const cache = new InformerCache<Pod>('Pod');
    const pods = [
      ...Array.from({ length: 50 }, (_, i) => pod(`fe-${i}`, { labels: { tier: 'fe', app: `app-${i}` } })),
      pod('web', { labels: { tier: 'fe', app: 'web' } }),
      pod('web-other-ns', { ns: 'shop', labels: { tier: 'fe', app: 'web' } }),
      pod('web-be', { labels: { tier: 'be', app: 'web' } }),
    ];
    cache.replace(pods);
    expect(names(selectByLabels(cache, 'default', { tier: 'fe', app: 'web' }))).toEqual(['web']);
    expect(names(selectByLabels(cache, 'default', { app: 'web' }))).toEqual(['web', 'web-be']);
    expect(selectByLabels(cache, 'default', { app: 'none' })).toEqual([]);
    expect(selectByLabels(cache, 'default', {})).toEqual([]);
    expect(cache.countByIndex(labelIndexName('app'), 'default/web')).toBe(2);
    // Kept current afterwards like any index.
    cache.apply('MODIFIED', pod('web-be', { labels: { tier: 'be', app: 'api' } }));
    expect(names(selectByLabels(cache, 'default', { app: 'web' }))).toEqual(['web']);
  });
});

describe('informer handlers', () => {
  it('replays the cached objects to a handler added later, as adds in the initial list', () => {
    const cache = new InformerCache<Pod>('Pod');
    const seen: string[] = [];
    cache.on({ add: (p, initial) => seen.push(`early ${p.metadata?.name} ${initial}`) });
    cache.replace([pod('a'), pod('b')]);
    cache.apply('ADDED', pod('c'));
    const late: string[] = [];
    const off = cache.on({ add: (p, initial) => late.push(`${p.metadata?.name} ${initial}`), update: (_o, p) => late.push(`update ${p.metadata?.name}`) });
    expect(seen).toEqual(['early a true', 'early b true', 'early c false']);
    expect(late.sort()).toEqual(['a true', 'b true', 'c true']);
    cache.apply('MODIFIED', pod('a'));
    expect(late.at(-1)).toBe('update a');
    off();
    cache.apply('MODIFIED', pod('b'));
    expect(late.at(-1)).toBe('update a');
  });

  it('relists tell only the difference, and a later relist is not an initial list', () => {
    const cache = new InformerCache<Pod>('Pod');
    cache.replace([pod('a')]);
    const events: string[] = [];
    cache.on({ add: (p, initial) => events.push(`add ${p.metadata?.name} ${initial}`), update: (_o, p) => events.push(`update ${p.metadata?.name}`), delete: (p) => events.push(`delete ${p.metadata?.name}`) });
    const a = cache.get('default', 'a')!;
    cache.replace([a, pod('b')]);
    cache.replace([pod('b')]);
    expect(events).toEqual(['add a true', 'add b false', 'delete a', 'update b']);
  });

  it('MemoryInformerFactory: a component started after objects were put in still sees them', () => {
    const informers = new MemoryInformerFactory();
    informers.upsert(pod('a'));
    const seen: string[] = [];
    informers.informer<Pod>('Pod').on({ add: (p) => seen.push(p.metadata!.name!) });
    informers.upsert(pod('b'));
    expect(seen).toEqual(['a', 'b']);
  });
});
