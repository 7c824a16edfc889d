/**
 * Listeners: NodePort-style extra listeners serve the same routes, and a port that cannot
 * be bound is reported while the others keep serving (as when 80/443 need privilege).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, endpointSlice, NS, service, World } from './harness.js';

const w = new World('127.52.0.6');
let blocker: net.Server;
let blockedPort: number;

beforeAll(async () => {
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.52.0.6', () => r()));
  blockedPort = (blocker.address() as net.AddressInfo).port;
  const pod = await w.pod('web-1', '127.52.7.1', 'web');
  await w.start({ httpsPort: blockedPort, extraListeners: [{ address: '127.52.0.7', port: 0, tls: false }, { address: '127.52.0.7', port: 0, tls: true }] });
  w.apply(service('web'), endpointSlice('web', [pod]), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: NS },
    spec: { ingressClassName: 'nginx', rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  await w.settle();
});
afterAll(async () => {
  await w.close();
  blocker.close();
});

describe('listeners', () => {
  it('reports the port it could not bind and serves on the others', async () => {
    const failed = w.ingress.listeners.find((l) => l.error);
    expect(failed).toMatchObject({ address: '127.52.0.6', port: blockedPort, tls: true });
    expect(failed!.error).toMatch(/EADDRINUSE/);
    expect(w.ingress.ports.https).toBeUndefined();
    const r = await curl(['-H', 'Host: web.example.com', `${w.http}/`]);
    expect(JSON.parse(r.body).pod).toBe('web-1');
  });

  it('extra (NodePort) listeners serve HTTP and HTTPS', async () => {
    const [plain, tls] = w.ingress.listeners.filter((l) => l.address === '127.52.0.7');
    const r = await curl(['-H', 'Host: web.example.com', `http://127.52.0.7:${plain!.port}/x`]);
    expect(JSON.parse(r.body).pod).toBe('web-1');
    const s = await curl(['-k', '--resolve', `web.example.com:${tls!.port}:127.52.0.7`, `https://web.example.com:${tls!.port}/x`]);
    expect(JSON.parse(s.body).headers['X-Forwarded-Port']).toEqual(['443']);
  });
});
