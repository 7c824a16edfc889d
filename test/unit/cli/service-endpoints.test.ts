import { describe, expect, it } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { printTable } from '../../../dataplane/base/printers/text-table.js';
import { serviceEndpoints } from '../../../dataplane/base/printers/service-cells.js';

const svc = (name: string, extra: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', creationTimestamp: new Date().toISOString() },
  spec: { type: 'ClusterIP', clusterIP: '127.96.0.20', selector: { app: name }, ports: [{ port: 80 }], ...extra },
});

const slice = (service: string, port: number, eps: Array<[string, { ready?: boolean; serving?: boolean; terminating?: boolean }?]>, ns = 'default'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-${port}`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ port }],
  endpoints: eps.map(([ip, conditions]) => ({ addresses: [ip], ...(conditions ? { conditions } : {}) })),
});

describe('the ENDPOINTS column of get svc -o wide', () => {
  const cases: Array<[string, Service, EndpointSlice[], string]> = [
    ['no slices', svc('web'), [], '<none>'],
    ['ready endpoints, sorted by address', svc('web'), [slice('web', 8080, [['127.244.2.10'], ['127.244.1.9', { ready: true }]])], '127.244.1.9:8080,127.244.2.10:8080'],
    ['not-ready endpoints are not in use', svc('web'), [slice('web', 8080, [['127.244.1.9', { ready: false, serving: false }], ['127.244.1.10']])], '127.244.1.10:8080'],
    [
      'serving terminating endpoints when none is ready (the proxy falls back to them)',
      svc('web'),
      [slice('web', 8080, [['127.244.1.9', { ready: false, serving: true, terminating: true }], ['127.244.1.10', { ready: false, serving: false, terminating: true }]])],
      '127.244.1.9:8080',
    ],
    ['several slices and ports', svc('web'), [slice('web', 8080, [['127.244.1.9']]), slice('web', 8081, [['127.244.1.9']])], '127.244.1.9:8080,127.244.1.9:8081'],
    ['more than three', svc('web'), [slice('web', 80, [['127.0.0.1'], ['127.0.0.2'], ['127.0.0.3'], ['127.0.0.4'], ['127.0.0.5']])], '127.0.0.1:80,127.0.0.2:80,127.0.0.3:80 + 2 more...'],
    ['another service or namespace', svc('web'), [slice('api', 80, [['127.0.0.1']]), slice('web', 80, [['127.0.0.2']], 'prod')], '<none>'],
    ['ExternalName', svc('web', { type: 'ExternalName', externalName: 'example.com' }), [slice('web', 80, [['127.0.0.1']])], '<none>'],
  ];
  it.each(cases)('%s', (_name, service, slices, want) => {
    expect(serviceEndpoints(service, slices)).toBe(want);
  });

  it('is the last wide column', () => {
    const text = printTable('Service', [svc('web')], { wide: true, context: { endpointSlices: [slice('web', 8080, [['127.244.1.9']])] } });
    const [header, row] = text.split('\n');
    expect(header).toMatch(/SELECTOR\s+ENDPOINTS$/);
    expect(row).toMatch(/app=web\s+127\.244\.1\.9:8080$/);
  });
});
