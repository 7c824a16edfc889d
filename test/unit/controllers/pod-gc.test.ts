import { describe, expect, it } from 'vitest';
import type { KObject, Kind } from '../../../dataplane/model/object.js';
import { ORPHAN_QUARANTINE_MS, planGarbageCollection } from '../../../dataplane/controllers/pod-gc.js';
import { T0, node, pod, replicaSet } from './fixtures.js';

describe('garbage collection plan', () => {
  const rs = replicaSet('web-abc', 1);
  function plan(objects: Partial<Record<Kind, KObject[]>>, missingSince = new Map<string, number>(), now = T0 + 60_000) {
    const map = new Map(Object.entries(objects) as Array<[Kind, KObject[]]>);
    const lookup = (kind: Kind, ns: string | undefined, name: string) => (map.get(kind) ?? []).find((o) => o.metadata?.name === name && (!ns || o.metadata?.namespace === ns));
    return planGarbageCollection(map, lookup, missingSince, now).map((a) => `${a.kind}/${a.name}${a.force ? ' force' : ''}`);
  }

  it('deletes dependents whose controller owner is gone or was replaced (uid)', () => {
    const replaced = { ...rs, metadata: { ...rs.metadata, uid: 'another' } };
    expect(plan({ Node: [node('node-1')], ReplicaSet: [rs], Pod: [pod('kept', { owner: rs, node: 'node-1' })] })).toEqual([]);
    expect(plan({ Node: [node('node-1')], ReplicaSet: [], Pod: [pod('orphan', { owner: rs, node: 'node-1' })] })).toEqual(['Pod/orphan']);
    expect(plan({ Node: [node('node-1')], ReplicaSet: [replaced], Pod: [pod('orphan', { owner: rs, node: 'node-1' })] })).toEqual(['Pod/orphan']);
    // Owners of kinds knet does not store (a Job) are not judged.
    expect(plan({ Pod: [pod('job-pod', { owner: { kind: 'Job', metadata: { name: 'j', uid: 'u' } } })] })).toEqual([]);
  });

  it('force-deletes terminating pods past their grace only when their node is NotReady or gone', () => {
    const terminating = (name: string, nodeName: string) => pod(name, { node: nodeName, deleting: true }); // deadline T0+30s
    expect(plan({ Node: [node('node-1')], Pod: [terminating('a', 'node-1')] })).toEqual([]);
    expect(plan({ Node: [node('node-1', { ready: 'Unknown' })], Pod: [terminating('a', 'node-1')] })).toEqual(['Pod/a force']);
    expect(plan({ Node: [], Pod: [terminating('a', 'node-1')] })).toEqual(['Pod/a force']);
    expect(plan({ Node: [node('node-1', { ready: 'Unknown' })], Pod: [terminating('a', 'node-1')] }, new Map(), T0 + 10_000)).toEqual([]);
  });

  it('force-deletes pods bound to a node missing for the quarantine', () => {
    const p = pod('a', { node: 'node-9' });
    expect(plan({ Node: [], Pod: [p] }, new Map([['node-9', T0]]), T0 + ORPHAN_QUARANTINE_MS - 1)).toEqual([]);
    expect(plan({ Node: [], Pod: [p] }, new Map([['node-9', T0]]), T0 + ORPHAN_QUARANTINE_MS)).toEqual(['Pod/a force']);
  });
});
