import { describe, expect, it } from 'vitest';
import { columnDefinitions, toTable } from '../../../dataplane/apiserver/table.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const now = new Date().toISOString();
const pod: KObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, creationTimestamp: now },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] },
  status: { phase: 'Running', podIP: '127.244.1.2', containerStatuses: [{ name: 'c', ready: true, restartCount: 2, image: 'nginx', imageID: '', state: { running: {} } }] },
};

describe('server-side Tables', () => {
  it('has kubectl\'s pod columns, the wide ones at priority 1', () => {
    const cols = columnDefinitions('Pod');
    expect(cols.map((c) => `${c.name}:${c.priority}`)).toEqual(['Name:0', 'Ready:0', 'Status:0', 'Restarts:0', 'Age:0', 'IP:1', 'Node:1', 'Nominated Node:1', 'Readiness Gates:1']);
    expect(cols[0]).toMatchObject({ type: 'string', format: 'name' });
  });

  it('leaves knet-only CLI columns out (kubectl prints what a real cluster prints)', () => {
    expect(columnDefinitions('Service').map((c) => c.name)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  });

  it('fills one row per object with PartialObjectMetadata by default, the object with includeObject=Object', () => {
    const t = toTable('Pod', [pod], { include: 'Metadata', resourceVersion: '7' });
    expect(t).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '7' } });
    expect(t.rows[0]!.cells.slice(0, 4)).toEqual(['web-1', '1/1', 'Running', 2]);
    expect(t.rows[0]!.cells.slice(5)).toEqual(['127.244.1.2', 'node-1', '<none>', '<none>']);
    expect(t.rows[0]!.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pod.metadata });
    expect(toTable('Pod', [pod], { include: 'Object' }).rows[0]!.object).toBe(pod);
    expect(toTable('Pod', [pod], { include: 'None' }).rows[0]!.object).toBeUndefined();
    expect(toTable('Pod', [pod], { include: 'None', withColumns: false }).columnDefinitions).toEqual([]);
  });
});
