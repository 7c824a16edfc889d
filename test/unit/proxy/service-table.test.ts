import { describe, expect, it } from 'vitest';
import { buildServiceTable, skipReason } from '../../../proxy/service-table.js';
import { slice, svc } from './fixtures.js';

const CIP = '127.51.96.10';

describe('skipReason', () => {
  it.each([
    ['ClusterIP with an IP', svc('a', { clusterIP: CIP }), undefined],
    ['headless (None)', svc('a', { clusterIP: 'None' }), 'headless'],
    ['no clusterIP', svc('a', {}), 'headless'],
    ['ExternalName', svc('a', { type: 'ExternalName', externalName: 'x.example' }), 'ExternalName'],
    ['headless label', svc('a', { clusterIP: CIP }, { labels: { 'service.kubernetes.io/headless': '' } }), 'labelled service.kubernetes.io/headless'],
    ['service-proxy-name', svc('a', { clusterIP: CIP }, { labels: { 'service.kubernetes.io/service-proxy-name': 'other' } }), 'service.kubernetes.io/service-proxy-name=other'],
    ['empty service-proxy-name is proxied', svc('a', { clusterIP: CIP }, { labels: { 'service.kubernetes.io/service-proxy-name': '' } }), undefined],
  ])('%s', (_name, service, want) => {
    expect(skipReason(service)).toBe(want);
  });

  it('skipped services get no table entries', () => {
    const t = buildServiceTable([svc('a', { clusterIP: 'None' }), svc('b', { type: 'ExternalName', externalName: 'x' })], []);
    expect(t.size).toBe(0);
  });
});

describe('buildServiceTable', () => {
  it('keys each port ns/name:portName/protocol and applies defaults', () => {
    const t = buildServiceTable(
      [svc('web', { clusterIP: CIP, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }), svc('one', { clusterIP: '127.51.96.11' })],
      [],
    );
    expect([...t.keys()].sort()).toEqual(['default/one:/TCP', 'default/web:dns/UDP', 'default/web:http/TCP']);
    const p = t.get('default/web:http/TCP')!;
    expect(p).toMatchObject({
      clusterIP: CIP,
      port: 80,
      nodePort: 0,
      protocol: 'TCP',
      affinity: { type: 'None', timeoutSeconds: 0 },
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 0,
      externalIPs: [],
      loadBalancerIPs: [],
      endpoints: [],
    });
  });

  it.each([
    ['ClientIP without config gets 10800 s', { sessionAffinity: 'ClientIP' }, { type: 'ClientIP', timeoutSeconds: 10800 }],
    ['ClientIP with timeout', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } } }, { type: 'ClientIP', timeoutSeconds: 2 }],
    ['None', { sessionAffinity: 'None' }, { type: 'None', timeoutSeconds: 0 }],
  ])('affinity: %s', (_n, spec, want) => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP, ...spec })], []);
    expect(t.get('default/a:/TCP')!.affinity).toEqual(want);
  });

  it.each([
    ['ClusterIP ignores a stray nodePort', { type: 'ClusterIP' }, 0],
    ['NodePort', { type: 'NodePort' }, 30080],
    ['LoadBalancer', { type: 'LoadBalancer' }, 30080],
  ])('nodePort: %s', (_n, spec, want) => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP, ports: [{ port: 80, nodePort: 30080 }], ...spec })], []);
    expect(t.get('default/a:/TCP')!.nodePort).toBe(want);
  });

  it.each([
    ['Local on NodePort', { type: 'NodePort', externalTrafficPolicy: 'Local' }, 'Local'],
    ['Local on ClusterIP without external IPs is ignored', { type: 'ClusterIP', externalTrafficPolicy: 'Local' }, 'Cluster'],
    ['Local on ClusterIP with externalIPs', { type: 'ClusterIP', externalTrafficPolicy: 'Local', externalIPs: ['127.51.200.1'] }, 'Local'],
    ['legacy Global', { type: 'NodePort', externalTrafficPolicy: 'Global' }, 'Cluster'],
  ])('externalTrafficPolicy: %s', (_n, spec, want) => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP, ...spec })], []);
    expect(t.get('default/a:/TCP')!.externalTrafficPolicy).toBe(want);
  });

  it('healthCheckNodePort only for LoadBalancer + Local; LB ingress IPs only for LoadBalancer', () => {
    const lb = svc('lb', { clusterIP: CIP, type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, { lbIPs: ['127.51.255.200'] });
    const np = svc('np', { clusterIP: '127.51.96.11', type: 'NodePort', externalTrafficPolicy: 'Local', healthCheckNodePort: 32001 }, { lbIPs: ['127.51.255.201'] });
    const t = buildServiceTable([lb, np], []);
    expect(t.get('default/lb:/TCP')).toMatchObject({ healthCheckNodePort: 32000, loadBalancerIPs: ['127.51.255.200'] });
    expect(t.get('default/np:/TCP')).toMatchObject({ healthCheckNodePort: 0, loadBalancerIPs: [] });
  });

  it('internalTrafficPolicy Local is carried', () => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP, internalTrafficPolicy: 'Local' })], []);
    expect(t.get('default/a:/TCP')!.internalTrafficPolicy).toBe('Local');
  });

  it('links slices by the service-name label in the same namespace, port by name and protocol', () => {
    const service = svc('web', { clusterIP: CIP, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    const t = buildServiceTable(
      [service],
      [
        slice('web', [{ name: 'http', port: 8080, protocol: 'TCP' }], [{ ip: '127.51.1.1', node: 'node-1', pod: 'web-1' }], 'web-a'),
        // Same port name but UDP: belongs to the dns port only if named dns.
        slice('web', [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'http', port: 9090, protocol: 'UDP' }], [{ ip: '127.51.2.1', node: 'node-2' }], 'web-b'),
        slice('web', [{ name: 'http', port: 8080 }], [{ ip: '127.51.1.99' }], 'other-ns', 'kube-system'),
        slice('other', [{ name: 'http', port: 8080 }], [{ ip: '127.51.1.98' }], 'other-a'),
      ],
    );
    expect(t.get('default/web:http/TCP')!.endpoints).toEqual([
      { ip: '127.51.1.1', port: 8080, nodeName: 'node-1', zoneHints: [], ready: true, serving: true, terminating: false, podName: 'web-1' },
    ]);
    expect(t.get('default/web:dns/UDP')!.endpoints.map((e) => `${e.ip}:${e.port}`)).toEqual(['127.51.2.1:5353']);
  });

  it('an unnamed service port matches an unnamed slice port; a slice port without a number is ignored', () => {
    const t = buildServiceTable(
      [svc('a', { clusterIP: CIP })],
      [slice('a', [{ port: 8080 }], [{ ip: '127.51.1.1' }], 'a-1'), slice('a', [{ name: '' }], [{ ip: '127.51.1.2' }], 'a-2')],
    );
    expect(t.get('default/a:/TCP')!.endpoints.map((e) => e.ip)).toEqual(['127.51.1.1']);
  });

  it.each([
    ['nil conditions', {}, { ready: true, serving: true, terminating: false }],
    ['ready false, serving nil', { ready: false }, { ready: false, serving: true, terminating: false }],
    ['terminating serving', { ready: false, serving: true, terminating: true }, { ready: false, serving: true, terminating: true }],
    ['terminating not serving', { ready: false, serving: false, terminating: true }, { ready: false, serving: false, terminating: true }],
    ['terminating false', { terminating: false }, { ready: true, serving: true, terminating: false }],
  ])('conditions: %s', (_n, cond, want) => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP })], [slice('a', [{ port: 8080 }], [{ ip: '127.51.1.1', ...cond }])]);
    expect(t.get('default/a:/TCP')!.endpoints[0]).toMatchObject(want);
  });

  it('dedupes ip:port across slices, a ready copy winning; skips non-IPv4 slices', () => {
    const s1 = slice('a', [{ port: 8080 }], [{ ip: '127.51.1.1', ready: false }], 'a-1');
    const s2 = slice('a', [{ port: 8080 }], [{ ip: '127.51.1.1', ready: true }, { ip: '127.51.1.2' }], 'a-2');
    const fqdn = { ...slice('a', [{ port: 8080 }], [{ ip: 'db.example' }], 'a-3'), addressType: 'FQDN' };
    const t = buildServiceTable([svc('a', { clusterIP: CIP })], [s1, s2, fqdn]);
    expect(t.get('default/a:/TCP')!.endpoints.map((e) => [e.ip, e.ready])).toEqual([
      ['127.51.1.1', true],
      ['127.51.1.2', true],
    ]);
  });

  it('keeps zone and hints', () => {
    const t = buildServiceTable([svc('a', { clusterIP: CIP })], [slice('a', [{ port: 1 }], [{ ip: '127.51.1.1', zone: 'z1', hints: ['z1'] }])]);
    expect(t.get('default/a:/TCP')!.endpoints[0]).toMatchObject({ zone: 'z1', zoneHints: ['z1'] });
  });
});
