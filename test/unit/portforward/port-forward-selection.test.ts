/**
 * base/portforward's choices, shared by `knet port-forward` and the apiserver: kubectl's port
 * specs (pod ports, named ports, service port → targetPort), its "most active" pod, and when a
 * forward to a pod is over.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { podPortMappings, servicePortMappings } from '../../../dataplane/base/portforward/ports.js';
import { forwardLost, mostActivePod } from '../../../dataplane/base/portforward/select-pod.js';

const pod = (name: string, o: { node?: string; phase?: string; readySince?: string; restarts?: number; created?: string; deleting?: boolean } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z', ...(o.deleting ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}) },
  spec: {
    ...(o.node === undefined ? { nodeName: 'node-1' } : o.node ? { nodeName: o.node } : {}),
    containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }],
  },
  status: {
    phase: o.phase ?? 'Running',
    ...(o.readySince ? { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: o.readySince }] } : {}),
    containerStatuses: [{ name: 'c', image: 'x', imageID: 'x', ready: !!o.readySince, restartCount: o.restarts ?? 0 }],
  },
});

const web: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web' },
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'admin', port: 81, targetPort: 9091 },
      { name: 'same', port: 82 },
    ],
  },
};

describe('port specs of a pod', () => {
  it.each([
    ['8080', { local: 8080, remote: 8080 }],
    ['9000:8080', { local: 9000, remote: 8080 }],
    [':8080', { local: 0, remote: 8080 }],
    ['http', { local: 8080, remote: 8080 }],
    ['7000:metrics', { local: 7000, remote: 9090 }],
  ])('%s', (spec, want) => {
    expect(podPortMappings([spec], pod('p'))).toEqual([want]);
  });

  it.each([
    ['nope', "Pod 'p' does not have a named port 'nope'"],
    ['70000:80', 'invalid port'],
    ['0', 'invalid port'],
  ])('%s is refused: %s', (spec, message) => {
    expect(() => podPortMappings([spec], pod('p'))).toThrow(message);
  });
});

describe('port specs of a service (service port → targetPort)', () => {
  it.each([
    ['80', { local: 80, remote: 8080 }],
    ['8888:80', { local: 8888, remote: 8080 }],
    [':80', { local: 0, remote: 8080 }],
    ['http', { local: 80, remote: 8080 }],
    ['81', { local: 81, remote: 9091 }],
    ['82', { local: 82, remote: 82 }],
  ])('%s', (spec, want) => {
    expect(servicePortMappings([spec], web, pod('p'))).toEqual([want]);
  });

  it.each([
    ['8080', 'Service web does not have a service port 8080'],
    ['grpc', "Service 'web' does not have a named port 'grpc'"],
  ])('%s is refused: %s', (spec, message) => {
    expect(() => servicePortMappings([spec], web, pod('p'))).toThrow(message);
  });
});

describe("the pod chosen for a service or workload (kubectl's most active)", () => {
  const cases: Array<[string, Pod[], string]> = [
    ['scheduled over unscheduled', [pod('a', { node: '' }), pod('b')], 'b'],
    ['running over pending', [pod('a', { phase: 'Pending' }), pod('b')], 'b'],
    ['ready over not ready', [pod('a'), pod('b', { readySince: '2026-01-01T00:01:00Z' })], 'b'],
    ['ready longer', [pod('a', { readySince: '2026-01-01T00:05:00Z' }), pod('b', { readySince: '2026-01-01T00:01:00Z' })], 'b'],
    ['fewer restarts', [pod('a', { restarts: 3 }), pod('b', { restarts: 1 })], 'b'],
    ['older', [pod('a', { created: '2026-01-01T00:09:00Z' }), pod('b', { created: '2026-01-01T00:01:00Z' })], 'b'],
    ['not being deleted', [pod('a', { deleting: true, readySince: '2026-01-01T00:00:00Z' }), pod('b', { readySince: '2026-01-01T00:05:00Z' })], 'b'],
    ['then by name', [pod('b'), pod('a')], 'a'],
  ];
  it.each(cases)('%s', (_name, pods, want) => {
    expect(mostActivePod(pods)?.metadata?.name).toBe(want);
  });

  it('none', () => {
    expect(mostActivePod([])).toBeUndefined();
  });
});

describe('when a forward to a pod is over', () => {
  const p = { ...pod('p'), metadata: { ...pod('p').metadata, uid: 'u1' } };
  it.each<[string, Pod | undefined, boolean]>([
    ['deleted', undefined, true],
    ['replaced by a pod of the same name', { ...p, metadata: { ...p.metadata, uid: 'u2' } }, true],
    ['succeeded', { ...p, status: { ...p.status, phase: 'Succeeded' } }, true],
    ['failed', { ...p, status: { ...p.status, phase: 'Failed' } }, true],
    ['still running', p, false],
    ['terminating (still serving for its grace period)', { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-02T00:00:00Z' } }, false],
  ])('%s: %s', (_name, now, want) => {
    expect(forwardLost(p, now)).toBe(want);
  });
});
