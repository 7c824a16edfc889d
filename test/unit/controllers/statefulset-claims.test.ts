import { describe, expect, it } from 'vitest';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { planStatefulSet, REVISION_LABEL, statefulPod, updateRevision } from '../../../dataplane/controllers/statefulset.js';
import { claimName, claimsForOrdinal, claimWithRetentionOwners, isClaimOfSet, retentionPolicy } from '../../../dataplane/controllers/statefulset-claims.js';
import { T0, iso, pod } from './fixtures.js';

type Policy = 'Retain' | 'Delete';

function sts(replicas: number, o: { parallel?: boolean; whenDeleted?: Policy; whenScaled?: Policy; templateVolume?: boolean } = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-sts', generation: 1 },
    spec: {
      replicas,
      serviceName: 'web',
      selector: { matchLabels: { app: 'db' } },
      ...(o.parallel ? { podManagementPolicy: 'Parallel' } : {}),
      ...(o.whenDeleted || o.whenScaled ? { persistentVolumeClaimRetentionPolicy: { whenDeleted: o.whenDeleted ?? 'Retain', whenScaled: o.whenScaled ?? 'Retain' } } : {}),
      template: {
        metadata: { labels: { app: 'db' } },
        spec: {
          containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'logs', mountPath: '/logs' }] }],
          volumes: [...(o.templateVolume ? [{ name: 'data', emptyDir: {} }] : []), { name: 'cache', emptyDir: {} }],
        },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'data', labels: { tier: 'storage', app: 'overridden' }, annotations: { note: 'kept' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        { metadata: { name: 'logs' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '100Mi' } } } },
      ],
    },
  };
}

/** A member pod of `set` (Running and Ready unless told otherwise). */
function member(set: StatefulSet, i: number, o: { healthy?: boolean; phase?: string; uid?: string } = {}): Pod {
  const p = pod(`web-${i}`, { ns: 'shop', owner: set, node: 'node-1', ready: o.healthy ?? true, phase: o.phase, labels: { app: 'db' }, uid: o.uid });
  return { ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, [REVISION_LABEL]: updateRevision(set) } } };
}

const setRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-sts', controller: true, blockOwnerDeletion: true };
const podRef = (i: number, uid = `uid-web-${i}`): OwnerReference => ({ apiVersion: 'v1', kind: 'Pod', name: `web-${i}`, uid, controller: true, blockOwnerDeletion: true });

/** An existing claim of `template`-web-`i`. */
function claim(name: string, o: { owners?: OwnerReference[]; deleting?: boolean } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, ...(o.owners ? { ownerReferences: o.owners } : {}), ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: `pvc-uid-${name}` },
    status: { phase: 'Bound' },
  };
}

const lookup = (...claims: PersistentVolumeClaim[]) => (name: string) => claims.find((c) => c.metadata?.name === name);
const names = (objs: Array<{ metadata?: { name?: string } }>) => objs.map((o) => o.metadata?.name);
const bothClaims = (i: number, owners?: OwnerReference[]) => [claim(`data-web-${i}`, { owners }), claim(`logs-web-${i}`, { owners })];

describe('StatefulSet claims (volumeClaimTemplates)', () => {
  it('names a claim <template>-<set>-<ordinal> and builds it from the template, the selector labels over its own', () => {
    const set = sts(2);
    expect(claimName(set, set.spec!.volumeClaimTemplates![1]!, 7)).toBe('logs-web-7');
    const [data, logs] = claimsForOrdinal(set, 1);
    expect(data).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-web-1', namespace: 'shop', labels: { tier: 'storage', app: 'db' }, annotations: { note: 'kept' } },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
    // No storageClassName: the DefaultStorageClass admission gives it the default class on create.
    expect(data!.spec).not.toHaveProperty('storageClassName');
    expect(logs!.metadata!.labels).toEqual({ app: 'db' });
    expect(logs!.spec!.storageClassName).toBe('fast');
  });

  it('gives the pod a persistentVolumeClaim volume per template, replacing a template volume of that name', () => {
    const p = statefulPod(sts(2, { templateVolume: true }), 1);
    expect(p.spec!.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } },
      { name: 'logs', persistentVolumeClaim: { claimName: 'logs-web-1' } },
      { name: 'cache', emptyDir: {} },
    ]);
  });

  it('recognises a claim of the set by name', () => {
    const set = sts(1);
    expect(['data-web-0', 'logs-web-12', 'data-web-01', 'data-web-', 'data-webby-0', 'other-web-0'].map((n) => isClaimOfSet(set, n))).toEqual([true, true, false, false, false, false]);
  });

  it('defaults the retention policy to Retain/Retain', () => {
    expect(retentionPolicy(sts(1))).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
  });
});

describe('planStatefulSet with volumeClaimTemplates', () => {
  it('creates the missing claims before their pod, in order (OrderedReady), without owners under Retain', () => {
    const plan = planStatefulSet(sts(2), [], T0);
    expect(plan.claims.map((c) => [c.claim.metadata!.name, c.pod])).toEqual([['data-web-0', 'web-0'], ['logs-web-0', 'web-0']]);
    expect(names(plan.create)).toEqual(['web-0']);
    expect(plan.claims.every((c) => c.claim.metadata!.ownerReferences === undefined)).toBe(true);
  });

  it('Parallel creates every pod\'s claims at once', () => {
    const plan = planStatefulSet(sts(2, { parallel: true }), [], T0);
    expect(plan.claims.map((c) => c.claim.metadata!.name)).toEqual(['data-web-0', 'logs-web-0', 'data-web-1', 'logs-web-1']);
    expect(names(plan.create)).toEqual(['web-0', 'web-1']);
  });

  it('a recreated pod (or a set scaled up again) reuses its existing claims, never rewritten', () => {
    const set = sts(2);
    const plan = planStatefulSet(set, [member(set, 0)], T0, lookup(...bothClaims(0), ...bothClaims(1)));
    expect(plan.claims).toEqual([]);
    expect(names(plan.create)).toEqual(['web-1']);
    expect(plan.create[0]!.spec!.volumes![0]).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } });
    expect(plan.claimOwners).toEqual([]);
  });

  it('only the missing one of a pod\'s claims is created', () => {
    const plan = planStatefulSet(sts(1), [], T0, lookup(claim('data-web-0')));
    expect(plan.claims.map((c) => c.claim.metadata!.name)).toEqual(['logs-web-0']);
    expect(names(plan.create)).toEqual(['web-0']);
  });

  it('whenDeleted=Delete: a new claim is controlled by the set (the garbage collector deletes it with the set)', () => {
    const plan = planStatefulSet(sts(1, { whenDeleted: 'Delete' }), [], T0);
    expect(plan.claims.map((c) => c.claim.metadata!.ownerReferences)).toEqual([[setRef], [setRef]]);
  });

  it('whenDeleted=Delete: an existing claim of a running pod gains the set reference', () => {
    const set = sts(1, { whenDeleted: 'Delete' });
    const plan = planStatefulSet(set, [member(set, 0)], T0, lookup(...bothClaims(0)));
    expect(plan.claimOwners.map((f) => [f.claim, f.ownerReferences])).toEqual([['data-web-0', [setRef]], ['logs-web-0', [setRef]]]);
  });

  it('whenScaled=Delete: the condemned pod becomes its claims\' controller before it is deleted', () => {
    const set = sts(1, { whenScaled: 'Delete' });
    const plan = planStatefulSet(set, [member(set, 0), member(set, 1)], T0, lookup(...bothClaims(0), ...bothClaims(1)));
    expect(plan.claimOwners.map((f) => [f.claim, f.ownerReferences])).toEqual([['data-web-1', [podRef(1)]], ['logs-web-1', [podRef(1)]]]);
    expect(names(plan.delete)).toEqual(['web-1']);
  });

  it('whenScaled=Delete and whenDeleted=Delete: a condemned pod\'s claim swaps the set reference for the pod', () => {
    const set = sts(1, { whenScaled: 'Delete', whenDeleted: 'Delete' });
    const plan = planStatefulSet(set, [member(set, 0), member(set, 1)], T0, lookup(...bothClaims(0, [setRef]), ...bothClaims(1, [setRef])));
    expect(plan.claimOwners.map((f) => [f.claim, f.ownerReferences])).toEqual([['data-web-1', [podRef(1)]], ['logs-web-1', [podRef(1)]]]);
  });

  it('Retain (the default): scaling down leaves the claims alone', () => {
    const set = sts(1);
    const plan = planStatefulSet(set, [member(set, 0), member(set, 1)], T0, lookup(...bothClaims(0), ...bothClaims(1)));
    expect(plan.claimOwners).toEqual([]);
    expect(names(plan.delete)).toEqual(['web-1']);
  });

  it('scaled up again before the condemned pod went: its claims lose the pod reference', () => {
    const set = sts(2, { whenScaled: 'Delete' });
    const plan = planStatefulSet(set, [member(set, 0), member(set, 1)], T0, lookup(...bothClaims(0), ...bothClaims(1, [podRef(1)])));
    expect(plan.claimOwners.map((f) => [f.claim, f.ownerReferences])).toEqual([['data-web-1', []], ['logs-web-1', []]]);
  });

  it('a policy changed back to Retain takes the set reference off', () => {
    const set = sts(1);
    const plan = planStatefulSet(set, [member(set, 0)], T0, lookup(...bothClaims(0, [setRef])));
    expect(plan.claimOwners.map((f) => f.ownerReferences)).toEqual([[], []]);
    const written = claimWithRetentionOwners(claim('data-web-0', { owners: [setRef] }), set, member(set, 0), false);
    expect(written!.metadata).not.toHaveProperty('ownerReferences');
  });

  it('a claim still owned by an earlier pod of that name (whenScaled=Delete) holds the pod back until it is collected', () => {
    const stale = bothClaims(1, [podRef(1, 'uid-old')]);
    const ordered = sts(3, { whenScaled: 'Delete' });
    const plan = planStatefulSet(ordered, [member(ordered, 0)], T0, lookup(...bothClaims(0), ...stale));
    expect(plan.create).toEqual([]);
    expect(plan.claims).toEqual([]);
    // Parallel: that pod waits, the others go on.
    const parallel = sts(3, { whenScaled: 'Delete', parallel: true });
    const p2 = planStatefulSet(parallel, [member(parallel, 0)], T0, lookup(...bothClaims(0), ...stale));
    expect(names(p2.create)).toEqual(['web-2']);
    // Under Retain the same claim is simply reused.
    const retain = sts(3);
    expect(names(planStatefulSet(retain, [member(retain, 0)], T0, lookup(...bothClaims(0), ...stale)).create)).toEqual(['web-1']);
  });

  it('a claim being deleted holds its pod back', () => {
    const set = sts(2, { parallel: true });
    const plan = planStatefulSet(set, [], T0, lookup(claim('data-web-0', { deleting: true })));
    expect(plan.create).toEqual([]);
  });

  it('a Pending pod whose claim went missing gets it again', () => {
    const set = sts(1, { whenDeleted: 'Delete' });
    const pending = member(set, 0, { phase: 'Pending', healthy: false });
    const plan = planStatefulSet(set, [pending], T0, lookup(claim('data-web-0', { owners: [setRef] })));
    expect(plan.claims.map((c) => [c.claim.metadata!.name, c.claim.metadata!.ownerReferences])).toEqual([['logs-web-0', [setRef]]]);
    expect(plan.create).toEqual([]);
  });

  it('another controller owning the claim: our references go and none are added (ConflictingController)', () => {
    const set = sts(1, { whenDeleted: 'Delete' });
    const other: OwnerReference = { apiVersion: 'example.com/v1', kind: 'Backup', name: 'b', uid: 'uid-b', controller: true };
    const plan = planStatefulSet(set, [member(set, 0)], T0, lookup(claim('data-web-0', { owners: [other, { ...setRef, controller: false }] }), claim('logs-web-0', { owners: [other] })));
    expect(plan.claimOwners.map((f) => [f.claim, f.ownerReferences, f.conflicting])).toEqual([['data-web-0', [other], true]]);
  });

  it('a reference to an earlier set of the same name is left to the garbage collector', () => {
    const set = sts(1, { whenDeleted: 'Delete' });
    const plan = planStatefulSet(set, [member(set, 0)], T0, lookup(...bothClaims(0, [{ ...setRef, uid: 'uid-old-set' }])));
    expect(plan.claimOwners).toEqual([]);
  });

  it('a set being deleted touches no claims', () => {
    const set = { ...sts(1, { whenDeleted: 'Delete' }), metadata: { ...sts(1).metadata, deletionTimestamp: iso(T0) } };
    const plan = planStatefulSet(set, [], T0);
    expect([plan.claims, plan.create, plan.claimOwners]).toEqual([[], [], []]);
  });
});
