import { describe, expect, it } from 'vitest';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ORPHAN_QUARANTINE_MS, planPodGarbageCollection } from '../../../dataplane/controllers/pod-gc.js';
import { T0, node, pod } from './fixtures.js';

describe('pod garbage collection plan', () => {
  function plan(nodes: Node[], pods: Pod[], missingSince = new Map<string, number>(), now = T0 + 60_000) {
    const names = [...new Set(pods.map((p) => p.spec!.nodeName!).filter(Boolean))];
    const on = (n: string) => pods.filter((p) => p.spec?.nodeName === n);
    const byName = (n: string) => nodes.find((x) => x.metadata?.name === n);
    return planPodGarbageCollection(names, on, byName, missingSince, now).map((a) => a.name);
  }

  it('force-deletes terminating pods past their grace only when their node is NotReady or gone', () => {
    const terminating = (name: string, nodeName: string) => pod(name, { node: nodeName, deleting: true }); // deadline T0+30s
    expect(plan([node('node-1')], [terminating('a', 'node-1')])).toEqual([]);
    expect(plan([node('node-1', { ready: 'Unknown' })], [terminating('a', 'node-1')])).toEqual(['a']);
    expect(plan([], [terminating('a', 'node-1')])).toEqual(['a']);
    expect(plan([node('node-1', { ready: 'Unknown' })], [terminating('a', 'node-1')], new Map(), T0 + 10_000)).toEqual([]);
  });

  it('force-deletes pods bound to a node missing for the quarantine', () => {
    const p = pod('a', { node: 'node-9' });
    expect(plan([], [p], new Map([['node-9', T0]]), T0 + ORPHAN_QUARANTINE_MS - 1)).toEqual([]);
    expect(plan([], [p], new Map([['node-9', T0]]), T0 + ORPHAN_QUARANTINE_MS)).toEqual(['a']);
  });
});
