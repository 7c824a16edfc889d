// PolicyEnforcer: the verdict every enforcement point asks for, the counts per policy and
// direction, the SNAT split (egress of the opener, ingress from the address the pod sees), and
// the cluster's DNS and ingress controller as the pods policies select them by.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { PolicyWorld } from '../../../dataplane/base/netpol/policy-world.js';
import { PolicyEnforcer } from '../../../dataplane/base/netpol/enforcer.js';
import { proxiedAddresses, systemPeers } from '../../../dataplane/base/netpol/system-peers.js';
import { clusterConfig, ingressSourceAddress } from '../../../dataplane/base/cluster-config.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { createLogger, silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const config = clusterConfig(0);
const NODE1 = '127.18.0.2';
const NODE2 = '127.18.0.3';
const A = '127.244.1.2'; // x/a on node-1
const B = '127.244.2.2'; // y/b on node-2

function setup() {
  const f = new MemoryInformerFactory();
  const world = new PolicyWorld(f, { systemPeers: systemPeers(config) });
  const registry = new Registry();
  const enforcer = new PolicyEnforcer(world, 'test', silentLogger, registry);
  for (const [name, ip] of [['node-1', NODE1], ['node-2', NODE2]]) f.upsert({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } } as KObject);
  for (const ns of ['x', 'y', 'kube-system', 'ingress-nginx']) f.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } } as KObject);
  const pod = (ns: string, name: string, ip: string, node: string) =>
    f.upsert({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels: { pod: name } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] }, status: { phase: 'Running', podIP: ip } } as KObject);
  pod('x', 'a', A, 'node-1');
  pod('y', 'b', B, 'node-2');
  const policy = (ns: string, name: string, spec: Record<string, unknown>) => f.upsert(applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec } as KObject));
  const counts = async () => Object.fromEntries((await registry.getSingleMetric('knet_netpol_denied_total')!.get()).values.map((v) => [`${v.labels.policy} ${v.labels.direction}`, v.value]));
  return { f, enforcer, policy, counts };
}

describe('PolicyEnforcer', () => {
  it('allows everything without a policy and counts nothing', async () => {
    const { enforcer, counts } = setup();
    expect(enforcer.allows(B, A, 80)).toBe(true);
    expect(await counts()).toEqual({});
  });

  it('counts each denial for every policy isolating the pod in the denied direction; wouldAllow does not count', async () => {
    const { enforcer, policy, counts } = setup();
    policy('x', 'deny-in', { podSelector: {} });
    policy('x', 'also-in', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: {} }] }] });
    policy('y', 'deny-out', { podSelector: {}, policyTypes: ['Egress'] });
    expect(enforcer.allows(B, A, 80)).toBe(false);
    expect(enforcer.allows(B, A, 80)).toBe(false);
    expect(enforcer.wouldAllow(B, A, 80)).toBe(false);
    expect(await counts()).toEqual({ 'x/also-in Ingress': 2, 'x/deny-in Ingress': 2, 'y/deny-out Egress': 2 });
  });

  it("checks the opener's egress toward the pod and the pod's ingress from the address it sees after SNAT", () => {
    const { enforcer, policy } = setup();
    // x/a admits only node-2's address (an ipBlock), y/b may open connections to nothing but x/a.
    policy('x', 'from-node-2', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: `${NODE2}/32` } }] }] });
    policy('y', 'to-a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { pod: 'a' } } }] }] });
    expect(enforcer.allows(B, A, 80)).toBe(false); // seen as itself: x/a's ingress refuses y/b
    expect(enforcer.allows(B, A, 80, 'TCP', NODE2)).toBe(true); // SNATed to node-2: admitted
    expect(enforcer.allows('127.0.0.1', A, 80, 'TCP', NODE2)).toBe(true); // an outside client, SNATed
    expect(enforcer.allows(B, A, 80, 'TCP', NODE1)).toBe(true); // node-1 is x/a's own node: always allowed
    policy('y', 'to-a', { podSelector: {}, policyTypes: ['Egress'] });
    expect(enforcer.allows(B, A, 80, 'TCP', NODE2)).toBe(false); // the opener's egress still applies
  });

  it('treats the cluster DNS and the ingress controller as their pods', () => {
    const { enforcer, policy } = setup();
    policy('x', 'dns-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 'dns', protocol: 'UDP' }] }] });
    expect(enforcer.allows(A, config.dnsServiceIP, 53, 'UDP')).toBe(true);
    expect(enforcer.allows(A, config.dnsServiceIP, 53, 'TCP')).toBe(false);
    expect(enforcer.allows(A, B, 80)).toBe(false);
    policy('y', 'from-ingress', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/component': 'controller' } } }] }] });
    expect(enforcer.allows(ingressSourceAddress(config), B, 80)).toBe(true);
    expect(enforcer.allows('127.0.0.1', B, 80)).toBe(false);
  });

  it('logs a denial at debug with from, to, port, reasons and policies, at most 20 a second', () => {
    const { f, policy } = setup();
    const lines: Array<Record<string, unknown>> = [];
    const world = new PolicyWorld(f, { systemPeers: systemPeers(config) });
    const enforcer = new PolicyEnforcer(world, 'test', createLogger('test', { level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }));
    policy('x', 'deny-in', { podSelector: {} });
    for (let i = 0; i < 25; i++) enforcer.allows(B, A, 80);
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatchObject({
      level: 'debug',
      msg: 'netpol: denied',
      from: `y/b (${B})`,
      to: `x/a (${A})`,
      port: '80/TCP',
      denied: ['ingress: isolated by x/deny-in; no ingress rule allows it'],
      policies: ['x/deny-in'],
    });
  });

  it('leaves Service addresses to the proxy: ClusterIPs, LoadBalancer IPs and NodePorts, but not kube-dns', () => {
    const proxied = proxiedAddresses(config);
    expect(proxied('127.96.12.34', 80)).toBe(true);
    expect(proxied(config.dnsServiceIP, 53)).toBe(false);
    expect(proxied('127.18.255.201', 80)).toBe(true);
    expect(proxied(NODE1, 30080)).toBe(true);
    expect(proxied(NODE1, 10249)).toBe(false);
    expect(proxied(A, 80)).toBe(false);
  });
});
