import { describe, expect, it } from 'vitest';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ordinalOf, planStatefulSet, REVISION_LABEL, statefulPod, updateRevision } from '../../../dataplane/controllers/statefulset.js';
import { T0, pod } from './fixtures.js';

function sts(replicas: number, o: { parallel?: boolean; image?: string; partition?: number; onDelete?: boolean } = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-sts', generation: 1 },
    spec: {
      replicas,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'db' } },
      ...(o.parallel ? { podManagementPolicy: 'Parallel' } : {}),
      ...(o.onDelete ? { updateStrategy: { type: 'OnDelete' } } : o.partition !== undefined ? { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: o.partition } } } : {}),
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: o.image ?? 'v1' }] } },
    },
  };
}

/** A member pod; `healthy` = Running and Ready, with the revision of `of`. */
function member(set: StatefulSet, i: number, o: { healthy?: boolean; deleting?: boolean; phase?: string; revisionOf?: StatefulSet } = {}): Pod {
  const p = pod(`web-${i}`, { owner: set, node: 'node-1', ready: o.healthy ?? true, deleting: o.deleting, phase: o.phase, labels: { app: 'db' } });
  return { ...p, metadata: { ...p.metadata, labels: { ...p.metadata!.labels, [REVISION_LABEL]: updateRevision(o.revisionOf ?? set) } } };
}

const names = (pods: Pod[]) => pods.map((p) => p.metadata!.name);

describe('planStatefulSet', () => {
  const s3 = sts(3);
  const cases: Array<{ name: string; set: StatefulSet; pods: Pod[]; create: string[]; del: string[] }> = [
    { name: 'OrderedReady creates web-0 first', set: s3, pods: [], create: ['web-0'], del: [] },
    { name: 'waits while web-0 is not Ready', set: s3, pods: [member(s3, 0, { healthy: false })], create: [], del: [] },
    { name: 'creates web-1 once web-0 is Running and Ready', set: s3, pods: [member(s3, 0)], create: ['web-1'], del: [] },
    { name: 'recreates a missing middle member', set: s3, pods: [member(s3, 0), member(s3, 2)], create: ['web-1'], del: [] },
    { name: 'waits for a terminating member to go before recreating it', set: s3, pods: [member(s3, 0, { deleting: true })], create: [], del: [] },
    { name: 'deletes a failed member (it is then recreated)', set: s3, pods: [member(s3, 0, { phase: 'Failed' })], create: [], del: ['web-0'] },
    { name: 'Parallel creates all at once', set: sts(3, { parallel: true }), pods: [], create: ['web-0', 'web-1', 'web-2'], del: [] },
    { name: 'scale down removes the highest ordinal only', set: sts(1), pods: [member(s3, 0), member(s3, 1), member(s3, 2)], create: [], del: ['web-2'] },
    { name: 'scale down waits for the terminating one', set: sts(1), pods: [member(s3, 0), member(s3, 1), member(s3, 2, { deleting: true })], create: [], del: [] },
    { name: 'scale down waits while another member is unhealthy', set: sts(1), pods: [member(s3, 0, { healthy: false }), member(s3, 1), member(s3, 2)], create: [], del: [] },
    { name: 'Parallel scale down removes all condemned', set: sts(1, { parallel: true }), pods: [member(s3, 0), member(s3, 1), member(s3, 2)], create: [], del: ['web-2', 'web-1'] },
    { name: 'rolling update replaces the highest ordinal first', set: sts(3, { image: 'v2' }), pods: [member(s3, 0), member(s3, 1), member(s3, 2)], create: [], del: ['web-2'] },
    {
      name: 'rolling update goes on in reverse order once the replaced member is healthy',
      set: sts(3, { image: 'v2' }),
      pods: [member(s3, 0), member(s3, 1), member(sts(3, { image: 'v2' }), 2)],
      create: [],
      del: ['web-1'],
    },
    {
      name: 'rolling update waits for the replaced member to be Ready',
      set: sts(3, { image: 'v2' }),
      pods: [member(s3, 0), member(s3, 1), member(sts(3, { image: 'v2' }), 2, { healthy: false })],
      create: [],
      del: [],
    },
    { name: 'partition keeps lower ordinals', set: sts(3, { image: 'v2', partition: 2 }), pods: [member(s3, 0), member(s3, 1), member(sts(3, { image: 'v2' }), 2)], create: [], del: [] },
    { name: 'OnDelete never replaces', set: sts(3, { image: 'v2', onDelete: true }), pods: [member(s3, 0), member(s3, 1), member(s3, 2)], create: [], del: [] },
  ];
  it.each(cases)('$name', ({ set, pods, create, del }) => {
    const plan = planStatefulSet(set, pods, T0);
    expect(names(plan.create)).toEqual(create);
    expect(names(plan.delete)).toEqual(del);
  });

  it('gives members stable identities: hostname, subdomain, pod-name and pod-index labels', () => {
    const p = statefulPod(s3, 2);
    expect(p.metadata!.name).toBe('web-2');
    expect(p.spec).toMatchObject({ hostname: 'web-2', subdomain: 'nginx' });
    expect(p.metadata!.labels).toEqual({ app: 'db', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', [REVISION_LABEL]: updateRevision(s3) });
    expect(p.metadata!.ownerReferences![0]).toMatchObject({ kind: 'StatefulSet', name: 'web', controller: true });
  });

  it('parses ordinals strictly', () => {
    const at = (name: string) => ordinalOf(s3, { metadata: { name } });
    expect([at('web-0'), at('web-12'), at('web-01'), at('web-x'), at('webby-1'), at('web-')]).toEqual([0, 12, undefined, undefined, undefined, undefined]);
  });

  it('reports status with revisions', () => {
    const next = sts(3, { image: 'v2' });
    const plan = planStatefulSet({ ...next, status: { replicas: 3, currentRevision: updateRevision(s3) } }, [member(s3, 0), member(s3, 1), member(next, 2)], T0);
    expect(plan.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: updateRevision(s3), updateRevision: updateRevision(next) });
    const done = planStatefulSet({ ...next, status: { replicas: 3, currentRevision: updateRevision(s3) } }, [member(next, 0), member(next, 1), member(next, 2)], T0);
    expect(done.status).toMatchObject({ currentRevision: updateRevision(next), currentReplicas: 3, updatedReplicas: 3 });
  });
});
