/**
 * kube-proxy end to end, services without a selector: a server this test runs on 127.0.0.1
 * (outside the pod range, like a local PostgreSQL) behind a Service named `db`, reached through
 * an `Endpoints` object the user writes (mirrored into an EndpointSlice) or a hand-written
 * EndpointSlice. Also a listener the proxy cannot bind: a Warning event on the Service names
 * the address and the fix, and the Service's other listeners keep serving.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { curl } from './proxy-helpers.js';

let cluster: KnetCluster;
const servers: http.Server[] = [];

/** An HTTP server on 127.0.0.1 answering its own name and the caller's address. */
async function startServer(name: string): Promise<number> {
  const server = http.createServer((req, res) => res.end(req.url === '/clientip' ? `${req.socket.remoteAddress}` : name));
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

const selectorless = (name: string, port: number, extra = '') => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
${extra}  ports: [{ port: ${port} }]
`;

const endpoints = (name: string, port: number) => `apiVersion: v1
kind: Endpoints
metadata: { name: ${name} }
subsets:
- addresses: [{ ip: 127.0.0.1 }]
  ports: [{ port: ${port} }]
`;

beforeAll(async () => {
  cluster = await startCluster({ components: { dns: false, ingress: false } });
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function answer(service: string, path = '/'): Promise<string> {
  const { host, port } = await cluster.serviceAddress(service);
  let r = await curl(`http://${host}:${port}${path}`);
  // The mirror controller and the proxy apply the write within moments; retry only until then.
  for (let i = 0; i < 100 && r.code !== 0; i++) {
    await new Promise((res) => setTimeout(res, 50));
    r = await curl(`http://${host}:${port}${path}`);
  }
  return r.code === 0 ? r.body : `<curl exit ${r.code}>`;
}

describe('services without a selector', () => {
  it('an Endpoints object is mirrored into an EndpointSlice and the ClusterIP reaches the server on 127.0.0.1', async () => {
    const port = await startServer('postgres-ish');
    await cluster.apply([selectorless('db', 5432), endpoints('db', port)].join('---\n'));
    expect(await answer('db')).toBe('postgres-ish');
    const slices = (await cluster.get<EndpointSlice>('endpointslices')) as EndpointSlice[];
    const mirrored = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'db');
    expect(mirrored).toHaveLength(1);
    expect(mirrored[0]!.metadata!.labels!['endpointslice.kubernetes.io/managed-by']).toBe('endpointslicemirroring-controller.k8s.io');
    expect(mirrored[0]!.endpoints?.map((e) => e.addresses[0])).toEqual(['127.0.0.1']);
    // ClusterIP traffic keeps the caller's address: curl's own 127.0.0.1.
    expect(await answer('db', '/clientip')).toBe('127.0.0.1');
  });

  it('editing the Endpoints moves the service to the new address', async () => {
    const port = await startServer('postgres-replica');
    await cluster.apply(endpoints('db', port));
    await cluster.waitFor(async () => (await answer('db')) === 'postgres-replica', 'db to answer from the new server');
  });

  it('a hand-written EndpointSlice works too', async () => {
    const port = await startServer('cache');
    await cluster.apply(`${selectorless('cache', 6379)}---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cache-1
  labels: { kubernetes.io/service-name: cache }
addressType: IPv4
ports: [{ port: ${port}, protocol: TCP, name: "" }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`);
    expect(await answer('cache')).toBe('cache');
  });
});

describe('a listener the proxy cannot bind', () => {
  it('becomes a Warning event on the Service naming the address and the fix; the ClusterIP still serves', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen({ host: '127.60.3.1', port: 8080 }, r));
    try {
      const port = await startServer('behind-external-ip');
      // Not waiting for readiness: apply would (rightly) fail on this very event.
      await cluster.apply([selectorless('squatted', 8080, '  externalIPs: [127.60.3.1]\n'), endpoints('squatted', port)].join('---\n'), { wait: false });
      expect(await answer('squatted')).toBe('behind-external-ip');
      let warning: string | undefined;
      await cluster.waitFor(async () => {
        const events = await cluster.events();
        warning = events.find((e) => e.involvedObject.name === 'squatted' && e.reason === 'FailedToBindServicePort')?.message;
        return warning !== undefined;
      }, 'a FailedToBindServicePort event on service squatted');
      expect(warning).toContain('127.60.3.1:8080/TCP');
      expect(warning).toMatch(/another program holds it.*Fix: .*ss -lpn/);
      const events = await cluster.events();
      const ours = events.filter((e) => e.involvedObject.name === 'squatted' && e.reason === 'FailedToBindServicePort');
      expect(ours).toHaveLength(1);
      expect(ours[0]!.type).toBe('Warning');
      expect(ours[0]!.involvedObject.kind).toBe('Service');
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});
