// NetworkPolicy's decision against the upstream e2e network-policy truth tables: pods a, b, c in
// namespaces x, y, z (each pod labelled pod=<name>, each namespace ns=<name>), one case per
// policy shape, every cell of the 9×9 matrix checked.
import { describe, expect, it } from 'vitest';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { decide, type PolicySource } from '../../../dataplane/base/netpol/decide.js';
import type { Peer, PodPeer, Protocol } from '../../../dataplane/base/netpol/peer.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const NAMESPACES = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const NODE_IP = '127.18.0.2';
const pods: PodPeer[] = NAMESPACES.flatMap((ns, i) =>
  PODS.map((name, j) => ({ kind: 'pod' as const, ip: `127.244.1.${i * 3 + j + 10}`, namespace: ns, name, labels: { pod: name }, nodeIP: NODE_IP, ports: [{ name: 'serve-80-tcp', port: 80, protocol: 'TCP' as Protocol }, { name: 'serve-81-udp', port: 81, protocol: 'UDP' as Protocol }] })),
);

function world(policies: NetworkPolicy[]): PolicySource {
  const defaulted = policies.map((p) => applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...p } as KObject) as NetworkPolicy);
  return {
    policiesIn: (ns) => defaulted.filter((p) => (p.metadata?.namespace ?? 'default') === ns),
    namespaceLabels: (ns) => (NAMESPACES.includes(ns) ? { ns, 'kubernetes.io/metadata.name': ns } : undefined),
  };
}

/** The reachability matrix as cyclonus prints it: rows from, columns to, '.' allowed, 'X' denied. */
function matrix(policies: NetworkPolicy[], port = 80, protocol: Protocol = 'TCP'): string {
  const w = world(policies);
  return pods.map((from) => pods.map((to) => (decide(from, to, port, protocol, w).allowed ? '.' : 'X')).join('')).join('\n');
}

const np = (ns: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ metadata: { namespace: ns, name }, spec });
const ALL = ['.........', '.........', '.........', '.........', '.........', '.........', '.........', '.........', '.........'].join('\n');

describe('NetworkPolicy decision (upstream e2e truth tables)', () => {
  it('no policy: everything reaches everything', () => {
    expect(matrix([])).toBe(ALL);
  });

  it('default deny ingress in x: nothing reaches x, x still reaches out', () => {
    expect(matrix([np('x', 'deny', { podSelector: {} })])).toBe(['XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......'].join('\n'));
  });

  it('allow same namespace only (x)', () => {
    const p = np('x', 'same-ns', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] });
    expect(matrix([p])).toBe(['.........', '.........', '.........', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......', 'XXX......'].join('\n'));
  });

  it('namespaceSelector ns in (y): x/a admits only y', () => {
    const p = np('x', 'from-y', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y'] }] } }] }] });
    expect(matrix([p])).toBe(['X........', 'X........', 'X........', '.........', '.........', '.........', 'X........', 'X........', 'X........'].join('\n'));
  });

  it('podSelector AND namespaceSelector (one peer) vs OR (two peers)', () => {
    const and = np('x', 'and', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }] });
    expect(matrix([and]).split('\n').map((r) => r[0]).join('')).toBe('XXXX.XXXX');
    const or = np('x', 'or', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }] });
    // x/b (same namespace, pod=b) and all of y.
    expect(matrix([or]).split('\n').map((r) => r[0]).join('')).toBe('X.X...XXX');
  });

  it('ipBlock with except: the block minus one address', () => {
    const zc = pods.find((p) => p.namespace === 'z' && p.name === 'c')!;
    const p = np('x', 'ipblock', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ ipBlock: { cidr: '127.244.1.0/24', except: [`${zc.ip}/32`] } }] }] });
    expect(matrix([p]).split('\n').map((r) => r[0]).join('')).toBe('........X');
    const outside: Peer = { kind: 'external', ip: '10.1.2.3' };
    expect(decide(outside, pods[0]!, 80, 'TCP', world([p])).allowed).toBe(false);
  });

  it('named ports and endPort ranges pick ports; protocol must match', () => {
    const named = np('x', 'named', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-udp', protocol: 'UDP' }] }] });
    expect(matrix([named], 81, 'UDP')).toBe(ALL);
    expect(matrix([named], 80, 'TCP').split('\n')[0]).toBe('XXX......');
    expect(matrix([named], 81, 'TCP').split('\n')[0]).toBe('XXX......');
    const range = np('x', 'range', { podSelector: {}, ingress: [{ ports: [{ port: 79, endPort: 81 }] }] });
    expect(matrix([range], 80)).toBe(ALL);
    expect(matrix([range], 82).split('\n')[8]).toBe('XXX......');
  });

  it('default deny egress in x, except DNS to port 53', () => {
    const p = np('x', 'egress', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] }] });
    expect(matrix([p])).toBe(['XXXXXXXXX', 'XXXXXXXXX', 'XXXXXXXXX', '.........', '.........', '.........', '.........', '.........', '.........'].join('\n'));
    const dns: Peer = { kind: 'external', ip: '127.96.0.10' };
    expect(decide(pods[0]!, dns, 53, 'UDP', world([p])).allowed).toBe(true);
    expect(decide(pods[0]!, dns, 80, 'TCP', world([p])).allowed).toBe(false);
  });

  it("the pod's own node always reaches it (kubelet probes); another node does not", () => {
    const deny = [np('x', 'deny', { podSelector: {} })];
    const ownNode: Peer = { kind: 'node', ip: NODE_IP, name: 'node-1' };
    const otherNode: Peer = { kind: 'node', ip: '127.18.0.3', name: 'node-2' };
    expect(decide(ownNode, pods[0]!, 80, 'TCP', world(deny))).toMatchObject({ allowed: true, ingress: { reason: "from the pod's own node (always allowed)" } });
    expect(decide(otherNode, pods[0]!, 80, 'TCP', world(deny)).allowed).toBe(false);
  });

  it('explains: which policies isolate and which rule allows', () => {
    const deny = np('x', 'deny', { podSelector: {} });
    const allow = np('x', 'allow-y', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }] });
    const v = decide(pods[3]!, pods[0]!, 80, 'TCP', world([deny, allow]));
    expect(v.ingress).toMatchObject({ allowed: true, isolatedBy: ['x/deny', 'x/allow-y'], allowedBy: [{ policy: 'x/allow-y', direction: 'Ingress', rule: 0 }] });
    const denied = decide(pods[6]!, pods[0]!, 80, 'TCP', world([deny, allow]));
    expect(denied.ingress.reason).toBe('isolated by x/deny, x/allow-y; no ingress rule allows it');
  });
});
