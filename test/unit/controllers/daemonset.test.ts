import { describe, expect, it } from 'vitest';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { DAEMON_TOLERATIONS, daemonPod, planDaemonSet, REVISION_LABEL } from '../../../dataplane/controllers/daemonset.js';
import { templateHash } from '../../../dataplane/controllers/names.js';
import { T0, node, pod } from './fixtures.js';

function ds(o: { nodeSelector?: Record<string, string>; image?: string; maxUnavailable?: number | string; onDelete?: boolean } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'uid-ds', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      ...(o.onDelete ? { updateStrategy: { type: 'OnDelete' } } : o.maxUnavailable !== undefined ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: o.maxUnavailable } } } : {}),
      template: { metadata: { labels: { app: 'agent' } }, spec: { ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), containers: [{ name: 'a', image: o.image ?? 'v1' }] } },
    },
  };
}

let seq = 0;
function dpod(set: DaemonSet, nodeName: string, o: { ready?: boolean; phase?: string; deleting?: boolean; created?: number; of?: DaemonSet } = {}): Pod {
  const p = pod(`agent-${++seq}`, { owner: set, node: nodeName, ready: o.ready ?? true, phase: o.phase, deleting: o.deleting, created: o.created, labels: { app: 'agent' } });
  return { ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, [REVISION_LABEL]: templateHash((o.of ?? set).spec?.template) } } };
}

const two = (): Node[] => [node('node-1'), node('node-2')];

describe('planDaemonSet', () => {
  it('creates one pod per Ready node', () => {
    const set = ds();
    expect(planDaemonSet(set, [...two(), node('node-3', { ready: false })], [], T0).create).toEqual(['node-1', 'node-2']);
  });

  it('follows nodeSelector', () => {
    expect(planDaemonSet(ds({ nodeSelector: { gpu: 'yes' } }), [node('node-1'), node('node-2', { labels: { gpu: 'yes' } })], [], T0).create).toEqual(['node-2']);
  });

  it('keeps the pod on a NotReady node (daemon pods tolerate not-ready and unreachable) but does not count it desired', () => {
    const set = ds();
    const p = dpod(set, 'node-2');
    const plan = planDaemonSet(set, [node('node-1'), node('node-2', { ready: 'Unknown', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] })], [p], T0);
    expect(plan.delete).toEqual([]);
    expect(plan.create).toEqual(['node-1']);
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberMisscheduled: 0 });
  });

  it('deletes pods of vanished nodes, of nodes no longer matching, failed pods and duplicates', () => {
    const set = ds({ nodeSelector: { role: 'edge' } });
    const edge = (n: string) => node(n, { labels: { role: 'edge' } });
    const gone = dpod(set, 'node-9');
    const unmatched = dpod(set, 'node-3');
    const failed = dpod(set, 'node-1', { phase: 'Failed' });
    const older = dpod(set, 'node-2', { created: T0 });
    const newer = dpod(set, 'node-2', { created: T0 + 1000 });
    const plan = planDaemonSet(set, [edge('node-1'), edge('node-2'), node('node-3')], [gone, unmatched, failed, older, newer], T0);
    expect(plan.delete.map((p) => p.metadata!.name).sort()).toEqual([gone, unmatched, failed, newer].map((p) => p.metadata!.name).sort());
    // node-1 gets a replacement only once the failed pod is gone.
    expect(plan.create).toEqual([]);
  });

  it('replaces old-template pods at most maxUnavailable at a time, unavailable ones first', () => {
    const v1 = ds();
    const v2 = ds({ image: 'v2' });
    const pods = [dpod(v2, 'node-1', { of: v1 }), dpod(v2, 'node-2', { of: v1 }), dpod(v2, 'node-3', { of: v1, ready: false })];
    const nodes = [...two(), node('node-3')];
    const plan = planDaemonSet(v2, nodes, pods, T0);
    // node-3's pod is unavailable: replacing it costs nothing, and it already uses the whole budget of 1.
    expect(plan.delete.map((p) => p.spec!.nodeName)).toEqual(['node-3']);
    const healthy = planDaemonSet(v2, nodes, pods.map((p) => ({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'True' }] } })), T0);
    expect(healthy.delete.map((p) => p.spec!.nodeName)).toEqual(['node-1']);
    const wide = planDaemonSet(ds({ image: 'v2', maxUnavailable: '50%' }), nodes, pods.map((p) => ({ ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'True' }] } })), T0);
    expect(wide.delete).toHaveLength(2);
    expect(planDaemonSet(ds({ image: 'v2', onDelete: true }), nodes, pods, T0).delete).toEqual([]);
  });

  it('binds pods directly and adds the daemon tolerations', () => {
    const p = daemonPod(ds(), 'node-2');
    expect(p.spec!.nodeName).toBe('node-2');
    // Exactly the daemon tolerations, in upstream's order: the 300 s ones of DefaultTolerationSeconds replaced, not doubled.
    expect(p.spec!.tolerations).toEqual(DAEMON_TOLERATIONS);
    expect(p.metadata!.labels![REVISION_LABEL]).toBe(templateHash(ds().spec!.template));
  });

  it('reports status', () => {
    const set = ds();
    const plan = planDaemonSet(set, two(), [dpod(set, 'node-1'), dpod(set, 'node-2', { ready: false })], T0);
    expect(plan.status).toEqual({
      observedGeneration: 1,
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberMisscheduled: 0,
      numberReady: 1,
      numberAvailable: 1,
      numberUnavailable: 1,
      updatedNumberScheduled: 2,
    });
  });
});
