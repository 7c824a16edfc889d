/**
 * ClusterIP forwarding with real curl: round robin, ClientIP affinity, refusal without
 * endpoints, skipped services, live changes, per-endpoint metrics.
 * Addresses: ClusterIPs 127.51.96.11–29, backends 127.51.1.11–12 and 127.51.2.11, clients 127.51.200.1x.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EP } from '../../unit/proxy/fixtures.js';
import { fakeClock } from '../../support/fake-clock.js';
import { curl, slice, startBackend, startRig, svc, type Backend, type Rig } from './helpers.js';

const B1 = { ip: '127.51.1.11', node: 'node-1', pod: 'web-a' };
const B2 = { ip: '127.51.1.12', node: 'node-1', pod: 'web-b' };
const B3 = { ip: '127.51.2.11', node: 'node-2', pod: 'web-c' };
const ALL = [B1, B2, B3];
const names = ALL.map((b) => `${b.ip}:8080`).sort();

let rig: Rig;
let backends: Backend[];
/** The proxy's time: affinity records expire when a test advances it. */
const clock = fakeClock();

beforeAll(async () => {
  backends = await Promise.all(ALL.map((b) => startBackend(b.ip, 8080)));
  rig = await startRig({ clock });
});

afterAll(async () => {
  await rig?.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, tries = 100): Promise<T> {
  let v = await probe();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 20));
    v = await probe();
  }
  return v;
}

function apply(name: string, ip: string, spec: Parameters<typeof svc>[1] = {}, endpoints: EP[] = ALL, extra: Parameters<typeof svc>[2] = {}) {
  rig.informers.upsert(svc(name, { clusterIP: ip, ports: [{ port: 8080, targetPort: 8080 }], ...spec }, extra));
  rig.informers.upsert(slice(name, [{ port: 8080 }], endpoints));
}

describe('ClusterIP', () => {
  it('a new service answers at once and round robin covers all 3 backends in 3 requests', async () => {
    apply('rr', '127.51.96.11');
    const first = await waitFor(() => curl('http://127.51.96.11:8080/'), (r) => r.code === 0);
    expect(first.code).toBe(0);
    const seen = [first.body];
    for (let i = 0; i < 2; i++) seen.push((await curl('http://127.51.96.11:8080/')).body);
    expect(seen.sort()).toEqual(names);
  });

  it('ClientIP affinity: 20 requests from one client hit one pod, other clients spread', async () => {
    apply('sticky', '127.51.96.12', { sessionAffinity: 'ClientIP' });
    await waitFor(() => curl('http://127.51.96.12:8080/', { from: '127.51.200.11' }), (r) => r.code === 0);
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await curl('http://127.51.96.12:8080/', { from: '127.51.200.11' })).body);
    expect(bodies.size).toBe(1);
    const others = new Set<string>();
    for (const c of ['127.51.200.12', '127.51.200.13', '127.51.200.14']) others.add((await curl('http://127.51.96.12:8080/', { from: c })).body);
    // Each new client takes the next endpoint in the rotation: three clients, three pods.
    expect(others.size).toBe(3);
  });

  it('a short affinity timeout (2 s) expires and the next request goes elsewhere', async () => {
    apply('short', '127.51.96.13', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 2 } } });
    const from = '127.51.200.15';
    const first = await waitFor(() => curl('http://127.51.96.13:8080/', { from }), (r) => r.code === 0);
    for (let i = 0; i < 5; i++) expect((await curl('http://127.51.96.13:8080/', { from })).body).toBe(first.body);
    // Idle just under the timeout: still sticky (and the use restarts the idle time).
    clock.advance(1_999);
    expect((await curl('http://127.51.96.13:8080/', { from })).body).toBe(first.body);
    // Idle for the whole timeout: the record has expired.
    clock.advance(2_000);
    expect((await curl('http://127.51.96.13:8080/', { from })).body).not.toBe(first.body);
  });

  it('switching affinity None ↔ ClientIP applies live', async () => {
    apply('switch', '127.51.96.14', { sessionAffinity: 'ClientIP' });
    const from = '127.51.200.16';
    const first = await waitFor(() => curl('http://127.51.96.14:8080/', { from }), (r) => r.code === 0);
    expect((await curl('http://127.51.96.14:8080/', { from })).body).toBe(first.body);
    apply('switch', '127.51.96.14', { sessionAffinity: 'None' });
    await rig.proxy.sync();
    const spread = new Set<string>();
    for (let i = 0; i < 3; i++) spread.add((await curl('http://127.51.96.14:8080/', { from })).body);
    expect(spread.size).toBe(3);
    apply('switch', '127.51.96.14', { sessionAffinity: 'ClientIP' });
    await rig.proxy.sync();
    const again = new Set<string>();
    for (let i = 0; i < 10; i++) again.add((await curl('http://127.51.96.14:8080/', { from })).body);
    expect(again.size).toBe(1);
  });

  it('no endpoints → connection refused (curl 7); endpoints back → answers; gone → refused', async () => {
    apply('empty', '127.51.96.15', {}, []);
    await rig.proxy.sync();
    expect((await curl('http://127.51.96.15:8080/')).code).toBe(7);
    rig.informers.upsert(slice('empty', [{ port: 8080 }], [B3]));
    const back = await waitFor(() => curl('http://127.51.96.15:8080/'), (r) => r.code === 0);
    expect(back.body).toBe(`${B3.ip}:8080`);
    rig.informers.upsert(slice('empty', [{ port: 8080 }], [{ ...B3, ready: false, serving: false }]));
    expect((await waitFor(() => curl('http://127.51.96.15:8080/'), (r) => r.code === 7)).code).toBe(7);
  });

  it('falls back to serving terminating endpoints when none is ready', async () => {
    apply('term', '127.51.96.16', {}, [{ ...B1, ready: false, serving: true, terminating: true }, { ...B2, ready: false, serving: false, terminating: true }]);
    const r = await waitFor(() => curl('http://127.51.96.16:8080/'), (x) => x.code === 0);
    expect(r.body).toBe(`${B1.ip}:8080`);
  });

  it('headless-labelled and service-proxy-name services are not proxied; removing the label brings it back', async () => {
    apply('labelled', '127.51.96.17', {}, ALL, { labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } });
    apply('headless', '127.51.96.18', {}, ALL, { labels: { 'service.kubernetes.io/headless': '' } });
    await rig.proxy.sync();
    expect((await curl('http://127.51.96.17:8080/')).code).toBe(7);
    expect((await curl('http://127.51.96.18:8080/')).code).toBe(7);
    apply('labelled', '127.51.96.17');
    expect((await waitFor(() => curl('http://127.51.96.17:8080/'), (r) => r.code === 0)).code).toBe(0);
  });

  it('removing a service closes its listeners', async () => {
    apply('gone', '127.51.96.19');
    await waitFor(() => curl('http://127.51.96.19:8080/'), (r) => r.code === 0);
    rig.informers.remove(svc('gone', { clusterIP: '127.51.96.19' }));
    expect((await waitFor(() => curl('http://127.51.96.19:8080/'), (r) => r.code === 7)).code).toBe(7);
    expect(rig.proxy.listeners().some((l) => l.address === '127.51.96.19')).toBe(false);
  });

  it('slice port names map to service port names (multi-port, multi-slice)', async () => {
    rig.informers.upsert(svc('multi', { clusterIP: '127.51.96.20', ports: [{ name: 'a', port: 8080 }, { name: 'b', port: 8081 }] }));
    rig.informers.upsert(slice('multi', [{ name: 'a', port: 8080 }], [B1], 'multi-a'));
    rig.informers.upsert(slice('multi', [{ name: 'b', port: 8080 }], [B2], 'multi-b'));
    expect((await waitFor(() => curl('http://127.51.96.20:8080/'), (r) => r.code === 0)).body).toBe(`${B1.ip}:8080`);
    expect((await waitFor(() => curl('http://127.51.96.20:8081/'), (r) => r.code === 0)).body).toBe(`${B2.ip}:8080`);
  });

  it('a service without a selector forwards to a hand-written slice outside the pod range (a local db)', async () => {
    const db = await startBackend('127.51.3.10', 5432);
    try {
      rig.informers.upsert(svc('db', { clusterIP: '127.51.96.22', ports: [{ port: 5432 }] }));
      rig.informers.upsert({
        ...slice('db', [{ port: 5432 }], [{ ip: '127.51.3.10' }], 'db-1'),
        metadata: { name: 'db-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'db', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' } },
      });
      expect((await waitFor(() => curl('http://127.51.96.22:5432/'), (r) => r.code === 0)).body).toBe('127.51.3.10:5432');
    } finally {
      await db.close();
    }
  });

  it('a connection opened right after an endpoint change takes the new route', async () => {
    apply('moving', '127.51.96.23', {}, [B1]);
    await waitFor(() => curl('http://127.51.96.23:8080/'), (r) => r.code === 0);
    // In-process requests, each right after a change made from a timer: the proxy accepts the
    // connection in the poll phase of that same event-loop turn.
    const get = () =>
      new Promise<string>((resolve, reject) => {
        http.get('http://127.51.96.23:8080/', { agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
    const seen: string[] = [];
    for (const b of [B3, B1, B3, B1, B3]) {
      await new Promise((r) => setTimeout(r, 5));
      rig.informers.upsert(slice('moving', [{ port: 8080 }], [b]));
      seen.push(await get());
    }
    expect(seen).toEqual([B3, B1, B3, B1, B3].map((b) => `${b.ip}:8080`));
  });

  it('per-endpoint metrics show which pod served', async () => {
    apply('metered', '127.51.96.21', {}, [B2]);
    await waitFor(() => curl('http://127.51.96.21:8080/'), (r) => r.code === 0);
    const text = await rig.proxy.metrics.metrics();
    expect(text).toMatch(/knet_proxy_endpoint_connections_total\{service="default\/metered:\/TCP",endpoint="127\.51\.1\.12:8080",pod="web-b"\} [1-9]/);
    expect(text).toMatch(/knet_proxy_connections_total\{service="default\/metered:\/TCP",protocol="TCP"\} [1-9]/);
    expect(text).toMatch(/knet_proxy_bytes_total\{service="default\/metered:\/TCP",direction="out"\} [1-9]/);
  });
});
