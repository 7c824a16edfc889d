import { describe, expect, it } from 'vitest';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import { EndpointChooser, type Frontend, type Route } from '../../../proxy/endpoint-choice.js';
import { buildServiceTable } from '../../../proxy/service-table.js';
import { loadBalancerSourceRanges, sourceRangeDenial } from '../../../proxy/source-ranges.js';
import { NODE1, NODE2, NODES, slice, svc, type EP } from './fixtures.js';

const ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';
const withAnnotation = (s: Service, value: string): Service => ({ ...s, metadata: { ...s.metadata, annotations: { [ANNOTATION]: value } } });
const texts = (s: Service) => loadBalancerSourceRanges(s).map((r) => r.text);

describe('loadBalancerSourceRanges', () => {
  it.each<[string, Service, string[]]>([
    ['none: every client', svc('a', { type: 'LoadBalancer' }), []],
    ['the field, trimmed', svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: [' 10.0.0.0/8', '127.60.3.0/24 '] }), ['10.0.0.0/8', '127.60.3.0/24']],
    ['the annotation when the field is empty', withAnnotation(svc('a', { type: 'LoadBalancer' }), '10.0.0.0/8, 127.60.3.0/24'), ['10.0.0.0/8', '127.60.3.0/24']],
    ['the field wins over the annotation', withAnnotation(svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/8'] }), '127.60.3.0/24'), ['10.0.0.0/8']],
    ['an empty annotation: every client', withAnnotation(svc('a', { type: 'LoadBalancer' }), ' '), []],
    ['IPv6 and invalid ranges are left out', svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: ['fd00::/64', '10.0.0.0', '10.0.0.0/', '10.0.0.0/33', '300.0.0.0/8', '127.60.3.0/24'] }), ['127.60.3.0/24']],
    ['only IPv6 ranges: every IPv4 client (no IPv4 firewall)', svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: ['fd00::/64'] }), []],
  ])('%s', (_n, s, want) => {
    expect(texts(s)).toEqual(want);
  });

  it('masks host bits as Go’s ParseCIDR does', () => {
    const [r] = loadBalancerSourceRanges(svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: ['127.60.3.77/24'] }));
    expect(sourceRangeDenial([r!], [], '127.60.3.1', undefined)).toBeUndefined();
  });
});

describe('sourceRangeDenial', () => {
  const ranges = loadBalancerSourceRanges(svc('a', { type: 'LoadBalancer', loadBalancerSourceRanges: ['127.60.3.0/24', '127.51.0.2/32'] }));
  const LB = '127.51.255.200';
  it.each<[string, string, string | undefined, boolean]>([
    ['a client inside a range', '127.60.3.9', undefined, true],
    ['a client outside every range', '127.60.4.9', undefined, false],
    ['the node’s own VIP-sourced packet, the node inside a range', LB, NODE1.ip, true],
    ['the same, the node outside every range', LB, NODE2.ip, false],
    ['another address than the VIP is not let in by the node rule', '127.51.255.201', NODE1.ip, false],
  ])('%s', (_n, client, nodeIp, allowed) => {
    const denial = sourceRangeDenial(ranges, [LB], client, nodeIp);
    if (allowed) expect(denial).toBeUndefined();
    else expect(denial).toBe(`source ${client} is outside loadBalancerSourceRanges [127.60.3.0/24, 127.51.0.2/32]`);
  });

  it('no ranges: anyone', () => {
    expect(sourceRangeDenial([], [LB], '127.60.4.9', undefined)).toBeUndefined();
  });
});

describe('route with loadBalancerSourceRanges', () => {
  const KEY = 'default/web:/TCP';
  const LB_IP = '127.51.255.200';
  const ON1: EP = { ip: '127.51.1.1', node: 'node-1' };
  const IN = '127.60.3.1';
  const OUT = '127.60.4.1';
  const LB1: Frontend = { role: 'loadBalancer', node: 'node-1' };

  function chooser(spec: Partial<ServiceSpec>, endpoints: EP[] = [ON1]) {
    const c = new EndpointChooser(() => 0.5);
    const s = svc('web', { clusterIP: '127.51.96.10', type: 'LoadBalancer', externalIPs: ['127.51.200.50'], ports: [{ port: 80, nodePort: 30080 }], loadBalancerSourceRanges: ['127.60.3.0/24'], ...spec }, { lbIPs: [LB_IP] });
    c.update(buildServiceTable([s], [slice('web', [{ port: 8080 }], endpoints)]), NODES, NODES, 0);
    return c;
  }
  const summary = (r: Route) => (r.action === 'forward' ? `forward from ${r.sourceAddress}` : r.action);

  it.each<[string, Partial<ServiceSpec>, Frontend, string, string]>([
    ['LB IP, client inside', {}, LB1, IN, `forward from ${NODE1.ip}`],
    ['LB IP, client outside: drop', {}, LB1, OUT, 'drop'],
    ['LB IP, a pod outside the ranges is dropped too', {}, LB1, '127.51.2.9', 'drop'],
    ['LB IP, a node outside the ranges is dropped too', {}, LB1, NODE2.ip, 'drop'],
    ['LB IP, a pod whose range is listed', { loadBalancerSourceRanges: ['127.51.2.0/24'] }, LB1, '127.51.2.9', `forward from ${NODE2.ip}`],
    ['LB IP as the source, receiving node in the ranges', { loadBalancerSourceRanges: [`${NODE1.ip}/32`] }, LB1, LB_IP, `forward from ${NODE1.ip}`],
    ['LB IP as the source, receiving node not in the ranges', {}, LB1, LB_IP, 'drop'],
    ['the NodePort is not guarded', {}, { role: 'nodePort', node: 'node-2' }, OUT, `forward from ${NODE2.ip}`],
    ['the ClusterIP is not guarded', {}, { role: 'clusterIP' }, OUT, `forward from ${OUT}`],
    ['an externalIP is not guarded', {}, { role: 'externalIP', node: 'node-1' }, OUT, `forward from ${NODE1.ip}`],
    ['Local without a local endpoint: the firewall drops first', { externalTrafficPolicy: 'Local' }, { role: 'loadBalancer', node: 'node-2' }, OUT, 'drop'],
    ['Local without a local endpoint, client inside: hang', { externalTrafficPolicy: 'Local' }, { role: 'loadBalancer', node: 'node-2' }, IN, 'hang'],
    ['an empty field and no annotation: anyone', { loadBalancerSourceRanges: [] }, LB1, OUT, `forward from ${NODE1.ip}`],
  ])('%s', (_n, spec, frontend, client, want) => {
    expect(summary(chooser(spec).route(KEY, frontend, client))).toBe(want);
  });

  it('no endpoints: rejected whatever the source (the iptables proxier writes no firewall then)', () => {
    expect(chooser({}, []).route(KEY, LB1, OUT).action).toBe('reject');
  });

  it('says why, naming the source, the ranges and the service port', () => {
    const r = chooser({}).route(KEY, LB1, OUT);
    expect(r).toMatchObject({ action: 'drop', reason: `source ${OUT} is outside loadBalancerSourceRanges [127.60.3.0/24] of ${KEY}` });
  });

  it('the annotation guards when the field is empty', () => {
    const c = new EndpointChooser(() => 0.5);
    const s = withAnnotation(svc('web', { clusterIP: '127.51.96.10', type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }, { lbIPs: [LB_IP] }), '127.60.3.0/24');
    c.update(buildServiceTable([s], [slice('web', [{ port: 8080 }], [ON1])]), NODES, NODES, 0);
    expect(c.route(KEY, LB1, OUT).action).toBe('drop');
    expect(c.route(KEY, LB1, IN).action).toBe('forward');
  });
});
