import { describe, expect, it } from 'vitest';
import { describeBindError } from '../../../dataplane/base/net/bind-error.js';
import { healthCheckResponse, localReadyEndpoints } from '../../../proxy/health-check.js';
import { buildServiceTable } from '../../../proxy/service-table.js';
import { parseBindAddress } from '../../../proxy/status-server.js';
import { slice, svc } from './fixtures.js';

describe('healthCheckResponse', () => {
  it.each([
    [1, 200],
    [3, 200],
    [0, 503],
  ] as const)('%i local endpoints → %i', (n, status) => {
    const r = healthCheckResponse('default/web', n);
    expect(r.status).toBe(status);
    expect(r.headers).toEqual({ 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    expect(r.body).toBe(`{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "web"\n\t},\n\t"localEndpoints": ${n},\n\t"serviceProxyHealthy": true\n}`);
  });

  it('an unhealthy proxy answers 503 even with endpoints', () => {
    expect(healthCheckResponse('default/web', 2, false).status).toBe(503);
  });
});

describe('localReadyEndpoints', () => {
  it('counts ready endpoints on the node by unique IP across the service’s ports', () => {
    const table = buildServiceTable(
      [svc('web', { clusterIP: '127.51.96.10', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] }), svc('other', { clusterIP: '127.51.96.11' })],
      [
        slice('web', [{ name: 'a', port: 8080 }, { name: 'b', port: 8081 }], [
          { ip: '127.51.1.1', node: 'node-1' },
          { ip: '127.51.1.2', node: 'node-1', ready: false, serving: true, terminating: true },
          { ip: '127.51.2.1', node: 'node-2' },
        ]),
        slice('other', [{ port: 8080 }], [{ ip: '127.51.1.9', node: 'node-1' }], 'other-1'),
      ],
    );
    expect(localReadyEndpoints(table, 'default/web', 'node-1')).toBe(1);
    expect(localReadyEndpoints(table, 'default/web', 'node-2')).toBe(1);
    expect(localReadyEndpoints(table, 'default/web', 'node-3')).toBe(0);
  });
});

describe('describeBindError', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['EACCES', /ports below 1024 need privilege.*sudo.*ip_unprivileged_port_start=0.*setcap cap_net_bind_service/],
    ['EADDRINUSE', /127\.51\.96\.10:80\/TCP: another program holds it \(or 0\.0\.0\.0:80\)/],
    ['EADDRNOTAVAIL', /not on a local interface/],
    ['EWHATEVER', /cannot bind 127\.51\.96\.10:80\/TCP: EWHATEVER/],
  ])('%s names the address and the fix', (code, want) => {
    expect(describeBindError(err(code), 'TCP', '127.51.96.10', 80)).toMatch(want);
  });
});

describe('parseBindAddress', () => {
  it('splits HOST:PORT', () => {
    expect(parseBindAddress('127.51.0.2:10249')).toEqual({ host: '127.51.0.2', port: 10249 });
  });
  it.each(['10249', ':10249', '127.0.0.1:', '127.0.0.1:99999'])('rejects %s', (bad) => {
    expect(() => parseBindAddress(bad)).toThrow(/HOST:PORT/);
  });
});
