// Verdicts remembered by identity must be the verdicts decide() gives for the two addresses
// themselves: every pair of a cluster built to tell peers apart in each way an identity holds
// (labels, namespace, node, named ports, ipBlock membership, nodes, outside addresses).
import { describe, expect, it } from 'vitest';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { PolicyWorld } from '../../../dataplane/base/netpol/policy-world.js';
import { decide, type PolicySource } from '../../../dataplane/base/netpol/decide.js';
import type { Protocol } from '../../../dataplane/base/netpol/peer.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const NODES = { 'node-1': '127.18.0.2', 'node-2': '127.18.0.3' };

function cluster() {
  const f = new MemoryInformerFactory();
  const world = new PolicyWorld(f);
  for (const [name, ip] of Object.entries(NODES)) f.upsert({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } } as KObject);
  for (const ns of ['x', 'y']) f.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns, team: ns === 'x' ? 'blue' : 'red' } } });
  const pod = (ns: string, name: string, ip: string, labels: Record<string, string>, node: keyof typeof NODES = 'node-1', portName = 'http', port = 80) =>
    f.upsert({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx', ports: [{ name: portName, containerPort: port }] }] }, status: { phase: 'Running', podIP: ip } } as KObject);
  // Replicas alike in everything; one on the other node; one in an except block; one whose named port is elsewhere.
  pod('x', 'web-1', '127.244.1.2', { app: 'web' });
  pod('x', 'web-2', '127.244.1.3', { app: 'web' });
  pod('x', 'web-3', '127.244.2.2', { app: 'web' }, 'node-2');
  pod('x', 'web-4', '127.244.9.2', { app: 'web' });
  pod('x', 'web-5', '127.244.1.4', { app: 'web' }, 'node-1', 'http', 8080);
  pod('x', 'db-1', '127.244.1.5', { app: 'db' });
  pod('y', 'web-1', '127.244.1.6', { app: 'web' });
  pod('y', 'client', '127.244.2.3', { app: 'client', role: 'probe' }, 'node-2');
  const policy = (ns: string, name: string, spec: Record<string, unknown>) =>
    f.upsert(applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec } as KObject));
  policy('x', 'deny', { podSelector: {} });
  policy('x', 'web-from-blue', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: [{ port: 'http' }] }] });
  policy('x', 'db-from-block', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '127.244.0.0/16', except: ['127.244.9.0/24'] } }, { ipBlock: { cidr: '10.0.0.0/8' } }] }] });
  policy('y', 'egress-db', { podSelector: { matchLabels: { role: 'probe' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'db' } } }, { ipBlock: { cidr: '10.1.0.0/16' } }], ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] });
  return { f, world };
}

const OUTSIDE = ['10.1.2.3', '10.1.2.4', '10.2.0.1', '192.0.2.1'];

describe('verdicts by identity', () => {
  it('equal decide() on the two addresses for every pair, port and protocol', () => {
    const { world } = cluster();
    const fresh: PolicySource = { policiesIn: (ns) => world.policiesIn(ns), namespaceLabels: (ns) => world.namespaceLabels(ns) };
    const addresses = ['127.244.1.2', '127.244.1.3', '127.244.2.2', '127.244.9.2', '127.244.1.4', '127.244.1.5', '127.244.1.6', '127.244.2.3', ...Object.values(NODES), ...OUTSIDE];
    const cases: Array<[number, Protocol]> = [[80, 'TCP'], [8080, 'TCP'], [53, 'UDP']];
    let allowed = 0;
    let denied = 0;
    // Twice: the second pass answers from what the first remembered.
    for (let pass = 0; pass < 2; pass++) {
      for (const src of addresses) {
        for (const dst of addresses) {
          for (const [port, protocol] of cases) {
            const got = world.check(src, dst, port, protocol);
            const want = decide(world.peer(src), world.peer(dst), port, protocol, fresh);
            const view = (v: typeof got) => ({ allowed: v.allowed, egress: { ...v.egress, reason: v.egress.reason }, ingress: { ...v.ingress, reason: v.ingress.reason } });
            expect(view(got), `${src} → ${dst}:${port}/${protocol}`).toEqual(view(want));
            if (got.allowed) allowed++;
            else denied++;
          }
        }
      }
    }
    // The cluster exercises both answers plenty.
    expect(allowed).toBeGreaterThan(100);
    expect(denied).toBeGreaterThan(100);
  });

  it('replicas alike share an identity; node, named port, ipBlock membership and namespace tell them apart', () => {
    const { world } = cluster();
    const id = (ip: string) => world.identityOf(ip);
    expect(id('127.244.1.3')).toBe(id('127.244.1.2'));
    expect(id('127.244.2.2')).not.toBe(id('127.244.1.2')); // another node
    expect(id('127.244.9.2')).not.toBe(id('127.244.1.2')); // in an except block
    expect(id('127.244.1.4')).not.toBe(id('127.244.1.2')); // its named port is 8080
    expect(id('127.244.1.6')).not.toBe(id('127.244.1.2')); // another namespace
    expect(id('10.1.2.4')).toBe(id('10.1.2.3')); // outside, in the same blocks
    expect(id('192.0.2.1')).not.toBe(id('10.1.2.3'));
    expect(id(NODES['node-2'])).not.toBe(id(NODES['node-1']));
  });

  it('a new policy with a new block makes identities anew', () => {
    const { f, world } = cluster();
    expect(world.identityOf('192.0.2.2')).toBe(world.identityOf('192.0.2.1'));
    expect(world.check('192.0.2.1', '127.244.1.5', 5432).allowed).toBe(false);
    f.upsert(applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'x', name: 'db-from-one' }, spec: { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.1/32' } }] }] } } as KObject));
    expect(world.identityOf('192.0.2.2')).not.toBe(world.identityOf('192.0.2.1'));
    expect(world.check('192.0.2.1', '127.244.1.5', 5432).allowed).toBe(true);
    expect(world.check('192.0.2.2', '127.244.1.5', 5432).allowed).toBe(false);
  });
});
