/**
 * What a delete means, decided in admission's write path (write-plan.ts planDelete) and
 * committed by a store that knows no kind: graceful pods, a Service's allocations given back,
 * finalizers (marked deleting, removed by the update that takes the last one off, no new ones
 * meanwhile), the propagation policy as the garbage collector's finalizers, a Namespace turning
 * Terminating (nothing new in it, the immortal ones refused), and batches (`knet delete -f`):
 * each target's own outcome, one read per kind, commits in chunks, no scan of the store.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import { storeKeyspaces } from '../support/store-keyspaces.js';
import type { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { createObject, deleteObject, deleteObjects, mutateObject, updateObject } from '../../dataplane/base/admission/writes.js';
import { applyManifests } from '../../dataplane/base/admission/apply.js';
import type { AnyObject, KObject } from '../../dataplane/base/model/object.js';

const keyspace = storeKeyspaces('del');
const config = clusterConfig(0);

/** A store keyspace of its own, with the default namespace. */
async function newStore(): Promise<ObjectStore> {
  const store = keyspace();
  await createObject(store, config, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return store;
}
const cm = (name: string, extra: Partial<NonNullable<KObject['metadata']>> = {}, namespace = 'default'): AnyObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...extra } });
const scheduledPod = (name: string): Pod => ({ kind: 'Pod', apiVersion: 'v1', metadata: { name, namespace: 'default' }, spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'c', image: 'nginx' }] } });
const names = async (store: ObjectStore, namespace?: string) => (await store.list('ConfigMap', namespace)).items.map((o) => o.metadata?.name);

describe('deleteObject', () => {
  it('terminates a scheduled pod for its grace period, shortens it only, and removes an unscheduled one at once', async () => {
    const store = await newStore();
    await createObject(store, config, scheduledPod('p'));
    const first = await deleteObject(store, 'Pod', 'default', 'p');
    expect(first.removed).toBe(false);
    expect(first.object.metadata?.deletionGracePeriodSeconds).toBe(30);
    const again = await deleteObject(store, 'Pod', 'default', 'p', { gracePeriodSeconds: 60 });
    expect(again.object.metadata?.resourceVersion).toBe(first.object.metadata?.resourceVersion); // a longer grace changes nothing
    const shorter = await deleteObject(store, 'Pod', 'default', 'p', { gracePeriodSeconds: 10 });
    expect(shorter.object.metadata?.deletionGracePeriodSeconds).toBe(10);
    expect(Date.parse(shorter.object.metadata!.deletionTimestamp!)).toBe(Date.parse(first.object.metadata!.deletionTimestamp!) - 20_000);
    expect((await deleteObject(store, 'Pod', 'default', 'p', { gracePeriodSeconds: 0 })).removed).toBe(true);
    await createObject(store, config, { ...scheduledPod('q'), spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    expect((await deleteObject(store, 'Pod', 'default', 'q')).removed).toBe(true);
    expect(await store.get('Pod', 'default', 'q')).toBeUndefined();
    await store.close();
  });

  it('keeps an object with finalizers until an update takes the last one off, and refuses new ones meanwhile', async () => {
    const store = await newStore();
    await createObject(store, config, cm('held', { finalizers: ['example.com/a', 'example.com/b'] }));
    const marked = await deleteObject(store, 'ConfigMap', 'default', 'held');
    expect(marked.removed).toBe(false);
    expect(marked.object.metadata).toMatchObject({ deletionGracePeriodSeconds: 0, finalizers: ['example.com/a', 'example.com/b'] });
    expect(marked.object.metadata?.deletionTimestamp).toBeDefined();
    await expect(mutateObject(store, config, 'ConfigMap', 'default', 'held', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: ['example.com/a', 'example.com/c'] } }))).rejects.toThrow(
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/c"}',
    );
    const one = await mutateObject(store, config, 'ConfigMap', 'default', 'held', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: ['example.com/b'] } }));
    expect(one.object.metadata?.finalizers).toEqual(['example.com/b']);
    expect(await store.get('ConfigMap', 'default', 'held')).toBeDefined();
    await mutateObject(store, config, 'ConfigMap', 'default', 'held', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
    expect(await store.get('ConfigMap', 'default', 'held')).toBeUndefined();
    await store.close();
  });

  it('turns the propagation policy into the garbage collector’s finalizers: Orphan and Foreground keep the object, Background removes it', async () => {
    const store = await newStore();
    for (const n of ['o', 'f', 'b']) await createObject(store, config, cm(n));
    const orphan = await deleteObject(store, 'ConfigMap', 'default', 'o', { propagationPolicy: 'Orphan' });
    const foreground = await deleteObject(store, 'ConfigMap', 'default', 'f', { propagationPolicy: 'Foreground' });
    const background = await deleteObject(store, 'ConfigMap', 'default', 'b', { propagationPolicy: 'Background' });
    expect([orphan.removed, foreground.removed, background.removed]).toEqual([false, false, true]);
    expect(orphan.object.metadata?.finalizers).toEqual(['orphan']);
    expect(foreground.object.metadata?.finalizers).toEqual(['foregroundDeletion']);
    // Once deleting, another delete changes nothing (finalizers cannot be changed by DeleteOptions then).
    const again = await deleteObject(store, 'ConfigMap', 'default', 'f', { propagationPolicy: 'Orphan' });
    expect(again.object.metadata?.finalizers).toEqual(['foregroundDeletion']);
    await store.close();
  });

  it('gives back a Service’s ClusterIP and NodePort when it goes, also when the last finalizer goes', async () => {
    const store = await newStore();
    const svc = (name: string, ip: string, port: number, finalizers?: string[]): AnyObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'default', ...(finalizers ? { finalizers } : {}) },
      spec: { type: 'NodePort', clusterIP: ip, ports: [{ port: 80, nodePort: port }] },
    });
    const held = async (pool: string, value: string) => store.redis.hget(store.keys.allocations(pool), value);
    await createObject(store, config, svc('a', '127.96.0.44', 30044));
    await createObject(store, config, svc('b', '127.96.0.45', 30045, ['example.com/keep']));
    expect(await held('clusterip', '127.96.0.44')).toBe('Service/default/a');
    await deleteObject(store, 'Service', 'default', 'a');
    expect([await held('clusterip', '127.96.0.44'), await held('nodeport', '30044')]).toEqual([null, null]);
    await deleteObject(store, 'Service', 'default', 'b');
    expect(await held('clusterip', '127.96.0.45')).toBe('Service/default/b'); // still there, still its own
    await mutateObject(store, config, 'Service', 'default', 'b', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
    expect([await held('clusterip', '127.96.0.45'), await held('nodeport', '30045')]).toEqual([null, null]);
    await store.close();
  });

  it('turns a Namespace Terminating, lets nothing new in, and refuses to delete the immortal ones', async () => {
    const store = await newStore();
    await applyManifests(store, config, [{ source: 't', index: 1, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } }]);
    const created = (await store.get<Namespace>('Namespace', undefined, 'shop'))!;
    expect(created.spec?.finalizers).toEqual(['kubernetes']);
    await createObject(store, config, cm('inside', {}, 'shop'));
    const terminating = await deleteObject(store, 'Namespace', undefined, 'shop');
    expect(terminating.removed).toBe(false);
    expect((terminating.object as Namespace).status?.phase).toBe('Terminating');
    expect(await names(store, 'shop')).toEqual(['inside']); // emptying it is the namespace controller's
    await expect(createObject(store, config, cm('late', {}, 'shop'))).rejects.toThrow('configmaps "late" is forbidden: unable to create new content in namespace shop because it is being terminated');
    await expect(applyManifests(store, config, [{ source: 'f.yaml', index: 1, object: cm('late', {}, 'shop') }])).rejects.toThrow('unable to create new content in namespace shop because it is being terminated');
    // A plain update keeps spec.finalizers; the finalize subresource takes them off, which removes it.
    await updateObject(store, config, { ...terminating.object, spec: { finalizers: [] } });
    expect((await store.get<Namespace>('Namespace', undefined, 'shop'))?.spec?.finalizers).toEqual(['kubernetes']);
    await updateObject(store, config, { ...(await store.get('Namespace', undefined, 'shop'))!, spec: { finalizers: [] } }, { subresource: 'finalize' });
    expect(await store.get('Namespace', undefined, 'shop')).toBeUndefined();
    await expect(deleteObject(store, 'Namespace', undefined, 'default')).rejects.toThrow('namespaces "default" is forbidden: this namespace may not be deleted');
    await store.close();
  });
});

describe('deleteObjects', () => {
  it('deletes every object it finds and reports the rest as NotFound, in order, without scanning the store', async () => {
    const store = await newStore();
    for (const n of ['a', 'b', 'c']) await store.create(cm(n));
    await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' } });
    const scans = vi.spyOn(store, 'listKinds');
    const outcomes = await deleteObjects(store, [
      { kind: 'ConfigMap', namespace: 'default', name: 'a' },
      { kind: 'ConfigMap', namespace: 'default', name: 'missing' },
      { kind: 'Secret', namespace: 'default', name: 's' },
      { kind: 'ConfigMap', namespace: 'default', name: 'a' },
      { kind: 'ConfigMap', namespace: 'default', name: 'c' },
      { kind: 'Namespace', name: 'kube-system' },
    ]);
    expect(outcomes.map((o) => ('object' in o ? `deleted ${o.object.metadata?.name}` : `${o.error.reason}: ${o.error.message}`))).toEqual([
      'deleted a',
      'NotFound: configmaps "missing" not found',
      'deleted s',
      'NotFound: configmaps "a" not found',
      'deleted c',
      'NotFound: namespaces "kube-system" not found',
    ]);
    expect(scans).not.toHaveBeenCalled();
    expect(await names(store)).toEqual(['b']);
    await store.close();
  });

  it('terminates scheduled pods gracefully in a batch and commits a large batch in chunks', async () => {
    const store = await newStore();
    await store.create(scheduledPod('p'));
    const n = 1_200;
    await store.commit(Array.from({ length: n }, (_, i) => ({ kind: 'ConfigMap' as const, key: `default/m-${i}`, mode: 'create' as const, json: store.serialize(store.prepareCreate(cm(`m-${i}`))) })));
    const commits = vi.spyOn(store, 'tryCommit');
    const outcomes = await deleteObjects(store, [{ kind: 'Pod', namespace: 'default', name: 'p' }, ...Array.from({ length: n }, (_, i) => ({ kind: 'ConfigMap' as const, namespace: 'default', name: `m-${i}` }))]);
    expect(outcomes.filter((o) => 'object' in o)).toHaveLength(n + 1);
    expect(outcomes[0]).toMatchObject({ removed: false, object: { metadata: { deletionGracePeriodSeconds: 30 } } });
    expect(commits).toHaveBeenCalledTimes(3);
    expect(await names(store)).toEqual([]);
    await store.close();
  });
});
