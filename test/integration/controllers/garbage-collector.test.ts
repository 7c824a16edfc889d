/**
 * Cascading deletion by the garbage collector (owner-UID index), against a real store with the
 * whole controller-manager: background, foreground (the owner waits for the dependents that
 * block it, blockOwnerDeletion), orphan (the dependents lose the reference), owners gone while
 * nobody watched, a namespace emptied by the namespace controller, Events expiring — and
 * deleting a Deployment of 100 pods costs one store round trip per object.
 */
import { describe, expect, it, vi } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import { FINALIZER_JOB_TRACKING } from '../../../dataplane/base/model/well-known.js';
import { testClusters, until } from './harness.js';
import { createObject, deleteObject, mutateObject } from '../../../dataplane/base/admission/writes.js';
import { createEventRecorder } from '../../../dataplane/base/admission/events.js';
import type { AnyObject, KObject, Kind } from '../../../dataplane/base/model/object.js';

const clusters = testClusters();

const c = clusters.current;
const deployment = (name: string, replicas: number): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'default' },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53' }] } } },
});
const cm = (name: string, owners: Array<KObject & { ref?: Partial<OwnerReference> }> = [], extra: Partial<NonNullable<KObject['metadata']>> = {}): AnyObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', ownerReferences: owners.length ? owners.map((o) => ({ apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata!.name!, uid: o.metadata!.uid!, ...o.ref })) : undefined, ...extra },
});
const batchJob = (name: string, spec: Partial<NonNullable<Job['spec']>>): AnyObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'default' },
  spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['sleep', '3600'] }] } } },
});
const get = (kind: Kind, name: string) => c().informers.informer(kind).get('default', name);
const appPods = (app: string) => c().pods((p) => p.metadata?.labels?.app === app);
const setsOf = (app: string) => c().list<ReplicaSet>('ReplicaSet').filter((rs) => rs.metadata?.labels?.app === app);

/** The order objects of these kinds were removed in, as the watch saw it. */
function deletions(kinds: Kind[]): string[] {
  const seen: string[] = [];
  for (const kind of kinds) c().informers.informer(kind).on({ delete: (o) => seen.push(`${kind}/${o.metadata?.name}`) });
  return seen;
}

describe('garbage collector', () => {
  it('background: the Deployment goes at once, then its ReplicaSet and pods', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await until(() => appPods('web').length === 3, '3 pods');
    const { removed } = await deleteObject(c().store, 'Deployment', 'default', 'web');
    expect(removed).toBe(true);
    await until(() => appPods('web').length === 0 && setsOf('web').length === 0, 'ReplicaSet and pods gone');
  });

  it('foreground: the Deployment stays, finalizer foregroundDeletion, until the pods and then the ReplicaSet are gone', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 3));
    await until(() => appPods('web').filter((p) => p.status?.phase === 'Running').length === 3, '3 running pods');
    const order = deletions(['Pod', 'ReplicaSet', 'Deployment']);
    const { object, removed } = await deleteObject(c().store, 'Deployment', 'default', 'web', { propagationPolicy: 'Foreground' });
    expect(removed).toBe(false);
    expect(object.metadata).toMatchObject({ finalizers: ['foregroundDeletion'], deletionGracePeriodSeconds: 0 });
    // The ReplicaSet is deleted in the foreground too (it has dependents of its own).
    await until(() => setsOf('web')[0]?.metadata?.finalizers?.includes('foregroundDeletion') === true, 'the ReplicaSet deleting its pods first');
    await until(() => !get('Deployment', 'web'), 'the Deployment gone');
    expect(order.slice(-2).map((o) => o.split('/')[0])).toEqual(['ReplicaSet', 'Deployment']);
    expect(order.filter((o) => o.startsWith('Pod/'))).toHaveLength(3);
    expect(appPods('web')).toEqual([]);
  });

  it('foreground waits for dependents with blockOwnerDeletion only; the others are deleted but do not hold it', async () => {
    await clusters.start();
    const owner = await createObject(c().store, c().config, cm('owner'));
    const o = owner.object;
    // Both dependents are held by a finalizer of their own, so they linger after their delete.
    await createObject(c().store, c().config, cm('blocking', [{ ...o, ref: { blockOwnerDeletion: true } }], { finalizers: ['example.com/hold'] }));
    await createObject(c().store, c().config, cm('loose', [o], { finalizers: ['example.com/hold'] }));
    await until(() => !!get('ConfigMap', 'loose'), 'dependents cached');
    await deleteObject(c().store, 'ConfigMap', 'default', 'owner', { propagationPolicy: 'Foreground' });
    await until(() => !!get('ConfigMap', 'blocking')?.metadata?.deletionTimestamp && !!get('ConfigMap', 'loose')?.metadata?.deletionTimestamp, 'both dependents deleting');
    expect(get('ConfigMap', 'owner')?.metadata?.finalizers).toEqual(['foregroundDeletion']);
    await mutateObject(c().store, c().config, 'ConfigMap', 'default', 'blocking', (x) => ({ ...x, metadata: { ...x.metadata, finalizers: [] } }));
    await until(() => !get('ConfigMap', 'owner'), 'the owner gone once its blocking dependent is');
    expect(get('ConfigMap', 'loose')?.metadata?.deletionTimestamp).toBeDefined();
  });

  it('orphan: the Deployment goes, its ReplicaSet stays without ownerReferences; orphaning that leaves its pods bare and running', async () => {
    await clusters.start();
    await c().store.create(deployment('web', 2));
    await until(() => appPods('web').filter((p) => p.status?.phase === 'Running').length === 2, '2 running pods');
    const rs = setsOf('web')[0]!;
    const marked = await deleteObject(c().store, 'Deployment', 'default', 'web', { propagationPolicy: 'Orphan' });
    expect(marked.object.metadata?.finalizers).toEqual(['orphan']);
    await until(() => !get('Deployment', 'web'), 'the Deployment gone');
    expect(get('ReplicaSet', rs.metadata!.name!)?.metadata?.ownerReferences).toBeUndefined();
    await deleteObject(c().store, 'ReplicaSet', 'default', rs.metadata!.name!, { propagationPolicy: 'Orphan' });
    await until(() => !get('ReplicaSet', rs.metadata!.name!), 'the ReplicaSet gone');
    const pods = appPods('web');
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.ownerReferences).toBeUndefined();
      expect(p.metadata?.deletionTimestamp).toBeUndefined();
    }
  });

  it('deletes dependents whose owner went while nobody watched, and keeps those whose owner kind knet does not store', async () => {
    await clusters.start();
    await createObject(c().store, c().config, cm('custom-owned', [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', uid: 'u-widget' } }]));
    const kept = await createObject(c().store, c().config, cm('owner'));
    await createObject(c().store, c().config, cm('owned', [kept.object]));
    // The kept ones are cached (so the collector has judged or queued them) before the one it deletes exists:
    // its deletion is then the sign that the collector got as far as the others.
    await until(() => !!get('ConfigMap', 'owned') && !!get('ConfigMap', 'custom-owned'), 'the kept dependents cached');
    const removed = deletions(['ConfigMap']);
    const gone: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never-was', uid: '00000000-0000-4000-8000-000000000000' } };
    await createObject(c().store, c().config, cm('orphaned', [gone]));
    await until(() => removed.includes('ConfigMap/orphaned'), 'the dependent of a missing owner gone');
    expect(get('ConfigMap', 'custom-owned')).toBeDefined();
    expect(get('ConfigMap', 'owned')).toBeDefined();
  });

  it('a namespace goes Terminating, is emptied (Events too), and then goes', async () => {
    await clusters.start();
    await createObject(c().store, c().config, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await createObject(c().store, c().config, { ...cm('settings'), metadata: { name: 'settings', namespace: 'shop' } });
    await c().store.create({ ...deployment('web', 2), metadata: { name: 'web', namespace: 'shop' } });
    await createObject(c().store, c().config, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'shop' }, involvedObject: { kind: 'ConfigMap', name: 'settings', namespace: 'shop' }, reason: 'R', message: 'm' } as AnyObject);
    await until(() => c().pods((p) => p.metadata?.namespace === 'shop').length === 2, 'pods in shop');
    await deleteObject(c().store, 'Namespace', undefined, 'shop');
    await until(() => !c().informers.informer('Namespace').get(undefined, 'shop'), 'the namespace gone', 30_000);
    for (const kind of ['ConfigMap', 'Deployment', 'ReplicaSet', 'Pod', 'Event'] as Kind[]) expect((await c().store.list(kind, 'shop')).items, kind).toEqual([]);
  });

  it('a namespace goes with its default ServiceAccount and kube-root-ca.crt, which are not put back while it is Terminating', async () => {
    await clusters.start({ controllers: { rootCA: () => '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } });
    await createObject(c().store, c().config, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    // A finalizer of someone else's holds the namespace Terminating after everything else went.
    await createObject(c().store, c().config, { ...cm('held'), metadata: { name: 'held', namespace: 'team', finalizers: ['example.com/hold'] } });
    await createObject(c().store, c().config, { ...deployment('web', 1), metadata: { name: 'web', namespace: 'team' } });
    await until(() => !!c().informers.informer('ServiceAccount').get('team', 'default') && !!c().informers.informer('ConfigMap').get('team', 'kube-root-ca.crt'), 'default and kube-root-ca.crt in team');
    await until(() => c().pods((p) => p.metadata?.namespace === 'team').length === 1, 'the pod in team');
    await deleteObject(c().store, 'Namespace', undefined, 'team');
    const left = async () => (await Promise.all((['ServiceAccount', 'ConfigMap', 'Deployment', 'ReplicaSet', 'Pod'] as Kind[]).map(async (k) => (await c().store.list(k, 'team')).items.map((o) => `${k}/${o.metadata?.name}`)))).flat();
    await until(async () => (await left()).join() === 'ConfigMap/held', 'everything but the held ConfigMap gone', 30_000);
    expect(c().informers.informer<Namespace>('Namespace').get(undefined, 'team')?.status?.phase).toBe('Terminating');
    await mutateObject(c().store, c().config, 'ConfigMap', 'team', 'held', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
    await until(() => !c().informers.informer('Namespace').get(undefined, 'team'), 'the namespace gone', 30_000);
    expect(await left()).toEqual([]);
    // A namespace of the same name made again gets its own again.
    await createObject(c().store, c().config, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await until(() => !!c().informers.informer('ServiceAccount').get('team', 'default') && !!c().informers.informer('ConfigMap').get('team', 'kube-root-ca.crt'), 'default and kube-root-ca.crt in the new team');
  });

  it('a Job deleted in the background takes its running pods: their tracking finalizer is let go once the Job is gone', async () => {
    await clusters.start();
    const { object: job } = await createObject(c().store, c().config, batchJob('crunch', { parallelism: 2, completions: 4 }));
    const ownPods = () => c().pods((p) => p.metadata?.ownerReferences?.some((r) => r.uid === job.metadata?.uid) ?? false);
    await until(() => ownPods().length === 2 && ownPods().every((p) => p.status?.phase === 'Running' && p.metadata?.finalizers?.includes(FINALIZER_JOB_TRACKING)), "the Job's 2 pods running, tracked");
    await deleteObject(c().store, 'Job', 'default', 'crunch', { propagationPolicy: 'Background' });
    await until(async () => (await c().store.list<Pod>('Pod', 'default')).items.every((p) => !p.metadata?.ownerReferences?.some((r) => r.uid === job.metadata?.uid)), "the Job's pods gone from the store", 20_000);
    expect(await c().store.get('Job', 'default', 'crunch')).toBeUndefined();
  });

  it('a finished Job with ttlSecondsAfterFinished goes in the foreground: its pods first, then the Job', async () => {
    await clusters.start();
    const { object: job } = await createObject(c().store, c().config, batchJob('once', { completions: 1, ttlSecondsAfterFinished: 0 }));
    const ownPods = () => c().pods((p) => p.metadata?.ownerReferences?.some((r) => r.uid === job.metadata?.uid) ?? false);
    await until(() => ownPods().length === 1 && ownPods()[0]!.status?.phase === 'Running', 'the pod running');
    const order = deletions(['Pod', 'Job']);
    const pod = ownPods()[0]!;
    await c().store.mutate<Pod>('Pod', 'default', pod.metadata!.name!, (p) => ({ ...p, status: { ...p.status, phase: 'Succeeded', containerStatuses: (p.status?.containerStatuses ?? []).map((cs) => ({ ...cs, ready: false, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: new Date().toISOString() } } })) } }), { status: true });
    await until(() => !c().informers.informer('Job').get('default', 'once'), 'the Job gone', 20_000);
    expect(order).toEqual([`Pod/${pod.metadata!.name}`, 'Job/once']);
  });

  it('a namespace stored before namespaces had finalizers is emptied too before it goes', async () => {
    await clusters.start();
    await c().store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'old' } });
    await c().store.create({ ...cm('left'), metadata: { name: 'left', namespace: 'old' } });
    await deleteObject(c().store, 'Namespace', undefined, 'old');
    await until(() => !c().informers.informer('Namespace').get(undefined, 'old'), 'the namespace gone');
    expect((await c().store.list('ConfigMap', 'old')).items).toEqual([]);
  });

  it('Events expire after the cluster’s eventTTLSeconds, and are not deleted with their object', async () => {
    await clusters.start({ config: { eventTTLSeconds: 1 }, controllers: { eventSweepMs: 100 } });
    const about = await createObject(c().store, c().config, cm('about'));
    const recorder = createEventRecorder(c().store, { component: 'test' }, undefined, c().config);
    recorder.record(about.object, 'Normal', 'Tested', 'once');
    await recorder.flush();
    const [event] = (await c().store.list('Event', 'default')).items;
    expect(event).toBeDefined();
    await deleteObject(c().store, 'ConfigMap', 'default', 'about');
    expect(await c().store.get('Event', 'default', event!.metadata!.name!)).toBeDefined();
    await until(async () => !(await c().store.get('Event', 'default', event!.metadata!.name!)), 'the Event expired');
  });

  it('deleting a Deployment with 100 pods takes one store round trip per object, and no scan of the store', async () => {
    // No nodes: the pods stay Pending (deleted at once, no kubelet's grace period in the count).
    await clusters.start({ nodes: 0 });
    await c().store.create(deployment('big', 100));
    await until(() => appPods('big').length === 100 && appPods('big').every((p) => p.status?.conditions?.some((x) => x.type === 'PodScheduled')), '100 pending pods', 30_000);
    await until(() => (setsOf('big')[0]?.status?.replicas ?? 0) === 100 && (get('Deployment', 'big') as Deployment | undefined)?.status?.replicas === 100, 'statuses settled');
    const store = c().store;
    const calls = { get: vi.spyOn(store, 'get'), getMany: vi.spyOn(store, 'getMany'), listKinds: vi.spyOn(store, 'listKinds'), commit: vi.spyOn(store, 'commit'), tryCommit: vi.spyOn(store, 'tryCommit') };
    await deleteObject(store, 'Deployment', 'default', 'big');
    await until(() => appPods('big').length === 0 && setsOf('big').length === 0, 'everything gone', 30_000);
    // The controllers' Events (FailedScheduling repeats, …) are not the delete's: calls about Events only are left out.
    const aboutEvents = (args: unknown[]) => args[0] === 'Event' || (Array.isArray(args[0]) && (args[0] as Array<{ kind?: string }>).every((op) => op.kind === 'Event'));
    const count = Object.fromEntries(Object.entries(calls).map(([k, s]) => [k, (s.mock.calls as unknown[][]).filter((args) => !aboutEvents(args)).length]));
    const total = Object.values(count).reduce((a, b) => a + b, 0);
    const objects = 1 + 1 + 100;
    expect(count.listKinds).toBe(0);
    // One commit per object; the reads: the Deployment's, and one live check per owner the GC found gone.
    expect(count.commit + count.tryCommit).toBe(objects);
    expect(total).toBeLessThanOrEqual(objects + 3);
    if (process.env.KNET_GC_COUNTS) console.log('store calls deleting a Deployment of 100 pods:', count);
  });
});
