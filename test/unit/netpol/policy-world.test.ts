// The enforcement points' cache: peers found by address, verdicts remembered, and forgotten the
// moment a policy, a pod's labels or a namespace's labels change.
import { describe, expect, it } from 'vitest';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { PolicyWorld } from '../../../dataplane/base/netpol/policy-world.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

function setup() {
  const f = new MemoryInformerFactory();
  const world = new PolicyWorld(f);
  f.upsert({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '127.18.0.2' }] } } as KObject);
  for (const ns of ['x', 'y']) f.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } });
  const pod = (ns: string, name: string, ip: string, labels: Record<string, string>) =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 80 }] }] }, status: { phase: 'Running', podIP: ip } }) as KObject;
  f.upsert(pod('x', 'a', '127.244.1.2', { app: 'a' }));
  f.upsert(pod('y', 'b', '127.244.1.3', { app: 'b' }));
  const policy = (name: string, spec: Record<string, unknown>) => applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'x', name }, spec } as KObject);
  return { f, world, pod, policy };
}

describe('PolicyWorld', () => {
  it('names peers by address: pods, nodes, everything else outside', () => {
    const { world } = setup();
    expect(world.peer('127.244.1.2')).toMatchObject({ kind: 'pod', namespace: 'x', name: 'a', nodeIP: '127.18.0.2', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
    expect(world.peer('127.18.0.2')).toEqual({ kind: 'node', ip: '127.18.0.2', name: 'node-1' });
    expect(world.peer('127.0.0.1')).toEqual({ kind: 'external', ip: '127.0.0.1' });
  });

  it('follows policies as they come and go, and pods as their labels change', () => {
    const { f, world, pod, policy } = setup();
    expect(world.enforcing).toBe(false);
    expect(world.check('127.244.1.3', '127.244.1.2', 80).allowed).toBe(true);
    const deny = policy('deny', { podSelector: {} });
    f.upsert(deny);
    expect(world.enforcing).toBe(true);
    expect(world.check('127.244.1.3', '127.244.1.2', 80).allowed).toBe(false);
    const allowApp = policy('allow-b', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'c' } } }] }] });
    f.upsert(allowApp);
    expect(world.check('127.244.1.3', '127.244.1.2', 80).allowed).toBe(false);
    f.upsert(pod('y', 'b', '127.244.1.3', { app: 'c' }));
    expect(world.check('127.244.1.3', '127.244.1.2', 80)).toMatchObject({ allowed: true, ingress: { allowedBy: [{ policy: 'x/allow-b', rule: 0 }] } });
    f.remove(allowApp);
    f.remove(deny);
    expect(world.check('127.244.1.3', '127.244.1.2', 80).allowed).toBe(true);
  });

  it('remembers a verdict until something changes', () => {
    const { f, world, policy } = setup();
    f.upsert(policy('from-blue', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] }));
    const first = world.check('127.244.1.3', '127.244.1.2', 80);
    expect(first.allowed).toBe(false);
    expect(world.check('127.244.1.3', '127.244.1.2', 80)).toBe(first);
    const g = world.generation;
    f.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'y', labels: { ns: 'y', team: 'blue' } } });
    expect(world.generation).toBeGreaterThan(g);
    expect(world.check('127.244.1.3', '127.244.1.2', 80)).toMatchObject({ allowed: true, ingress: { allowedBy: [{ policy: 'x/from-blue', rule: 0 }] } });
  });

  it('a first check allocates no verdict of its own: a pod denied by the same policies gets the same object', () => {
    const { f, world, pod, policy } = setup();
    f.upsert(policy('deny', { podSelector: {} }));
    f.upsert(pod('y', 'c', '127.244.1.4', { app: 'c' }));
    const fromB = world.check('127.244.1.3', '127.244.1.2', 80);
    expect(fromB).toMatchObject({ allowed: false, ingress: { isolatedBy: ['x/deny'], reason: 'isolated by x/deny; no ingress rule allows it' } });
    expect(world.check('127.244.1.4', '127.244.1.2', 80)).toBe(fromB);
    expect(world.check('127.18.0.2', '127.244.1.2', 80)).toMatchObject({ allowed: true, ingress: { reason: "from the pod's own node (always allowed)" } });
  });
});
