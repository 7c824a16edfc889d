import { describe, expect, it } from 'vitest';
import { announcingNode, desiredListeners } from '../../../proxy/frontends.js';
import { buildServiceTable } from '../../../proxy/service-table.js';
import { NODE1, NODE2, NODES, slice, svc } from './fixtures.js';

const ready = [{ ip: '127.51.2.1', node: 'node-2' }];

function ids(services: Parameters<typeof buildServiceTable>[0], slices: Parameters<typeof buildServiceTable>[1], nodes = NODES) {
  const d = desiredListeners(buildServiceTable(services, slices), nodes);
  return { ids: d.listeners.map((l) => `${l.role} ${l.id}${l.node ? ` @${l.node}` : ''}`).sort(), problems: d.problems.map((p) => p.error) };
}

describe('desiredListeners', () => {
  it('ClusterIP service: one listener per port and protocol', () => {
    const s = svc('a', { clusterIP: '127.51.96.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
    const sl = slice('a', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5353, protocol: 'TCP' }], ready);
    expect(ids([s], [sl]).ids).toEqual(['clusterIP TCP/127.51.96.10:53', 'clusterIP UDP/127.51.96.10:53']);
  });

  it('no usable endpoint → no listener (connection refused); health check stays', () => {
    const s = svc('a', { clusterIP: '127.51.96.10', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ port: 80, nodePort: 30080 }] }, { lbIPs: ['127.51.255.200'] });
    expect(ids([s], []).ids).toEqual(['healthCheck TCP/127.51.0.2:32000 @node-1', 'healthCheck TCP/127.51.0.3:32000 @node-2']);
    const unready = slice('a', [{ port: 8080 }], [{ ip: '127.51.1.1', ready: false, serving: false }]);
    expect(ids([s], [unready]).ids).toHaveLength(2);
  });

  it('LoadBalancer: ClusterIP, nodePort on each served node, LB IP, external IPs', () => {
    const s = svc('a', { clusterIP: '127.51.96.10', type: 'LoadBalancer', externalIPs: ['127.51.200.50'], ports: [{ port: 80, nodePort: 30080 }] }, { lbIPs: ['127.51.255.200'] });
    expect(ids([s], [slice('a', [{ port: 8080 }], ready)]).ids).toEqual([
      'clusterIP TCP/127.51.96.10:80',
      'externalIP TCP/127.51.200.50:80 @node-1',
      'loadBalancer TCP/127.51.255.200:80 @node-1',
      'nodePort TCP/127.51.0.2:30080 @node-1',
      'nodePort TCP/127.51.0.3:30080 @node-2',
    ]);
  });

  it('only served nodes get nodePort listeners', () => {
    const s = svc('a', { clusterIP: '127.51.96.10', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    expect(ids([s], [slice('a', [{ port: 8080 }], ready)], [NODE2]).ids).toEqual(['clusterIP TCP/127.51.96.10:80', 'nodePort TCP/127.51.0.3:30080 @node-2']);
  });

  it('an address:port claimed by two services is served once and reported', () => {
    const a = svc('a', { clusterIP: '127.51.96.10', externalIPs: ['127.51.200.50'] });
    const b = svc('b', { clusterIP: '127.51.96.11', externalIPs: ['127.51.200.50'] });
    const r = ids([a, b], [slice('a', [{ port: 8080 }], ready, 'a-1'), slice('b', [{ port: 8080 }], ready, 'b-1')]);
    expect(r.ids.filter((i) => i.includes('200.50'))).toHaveLength(1);
    expect(r.problems).toEqual(['127.51.200.50:80/TCP is already served for default/a (externalIP)']);
  });

  it('SCTP is reported, not served', () => {
    const s = svc('a', { clusterIP: '127.51.96.10', ports: [{ port: 9999, protocol: 'SCTP' }] });
    const r = ids([s], [slice('a', [{ port: 9999, protocol: 'SCTP' }], ready)]);
    expect(r.ids).toEqual([]);
    expect(r.problems).toEqual(['SCTP is not supported by knet']);
  });
});

describe('announcingNode', () => {
  const table = (etp: string, eps: Parameters<typeof slice>[2]) =>
    buildServiceTable([svc('a', { clusterIP: '127.51.96.10', type: 'LoadBalancer', externalTrafficPolicy: etp })], [slice('a', [{ port: 8080 }], eps)]).get('default/a:/TCP')!;
  it.each([
    ['Cluster: first node', 'Cluster', ready, 'node-1'],
    ['Local: the node with a ready endpoint', 'Local', ready, 'node-2'],
    ['Local: a node with a serving terminating endpoint', 'Local', [{ ip: '127.51.2.1', node: 'node-2', ready: false, serving: true, terminating: true }], 'node-2'],
    ['Local: none anywhere → first node', 'Local', [], 'node-1'],
  ])('%s', (_n, etp, eps, want) => {
    expect(announcingNode(table(etp, eps), [NODE2, NODE1])).toBe(want);
  });
});
