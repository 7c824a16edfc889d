/**
 * UDP through the proxy with node:dgram clients: TCP and UDP on one port, replies from the
 * service address, the client's source kept, sessions per client with an idle timeout, and
 * sessions to a departed endpoint flushed. Plus the proxy's own lifecycle: close frees every
 * socket and timer.
 * Addresses: ClusterIPs 127.51.96.81–99, backends 127.51.1.81–89 / 127.51.2.81–89, clients 127.51.200.8x.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { fakeClock } from '../../support/fake-clock.js';
import { closesDone, socketHandles, socketsSettled, trackTimers } from '../../support/leak-check.js';
import { curl, slice, startBackend, startRig, svc, udpAsk, type Backend, type Rig } from './helpers.js';

let rig: Rig;
const backends: Backend[] = [];
/** The shared rig's time: its UDP sessions go idle only when a test advances it. */
const clock = fakeClock();

beforeAll(async () => {
  rig = await startRig({ udpIdleTimeoutMs: 400, clock });
  for (const ip of ['127.51.1.81', '127.51.2.81', '127.51.1.82']) backends.push(await startBackend(ip, 8053, { udp: true }));
});

afterAll(async () => {
  await rig?.close();
  await Promise.all(backends.map((b) => b.close()));
});

const dnsLike = [
  { name: 'dns', port: 8053, protocol: 'UDP' as const },
  { name: 'dns-tcp', port: 8053, protocol: 'TCP' as const },
];

async function applyDual(name: string, clusterIP: string, ips: string[], ports = dnsLike) {
  rig.informers.upsert(svc(name, { clusterIP, ports }));
  rig.informers.upsert(slice(name, ports.map((p) => ({ name: p.name, port: 8053, protocol: p.protocol })), ips.map((ip) => ({ ip }))));
  await rig.proxy.sync();
}

/**
 * A datagram from a connected socket, which hears the ICMP "port unreachable" a closed port
 * answers with: the error code, or the reply if something answered.
 */
function udpRefusal(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const done = (v: string) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    // A ceiling only for a broken proxy that keeps the port and drops the datagram.
    const timer = setTimeout(() => done('no reply and no refusal in 5 s'), 5000);
    sock.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    sock.on('message', (m) => done(`answered: ${m.toString()}`));
    sock.connect(port, address, () => sock.send('hostname'));
  });
}

/** A client socket that keeps its ip:port across requests (one conntrack entry). */
async function client(from: string): Promise<{ ask(msg: string, to: string, port: number): Promise<{ text: string; from: string } | undefined>; close(): void }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind({ address: from, port: 0 }, r));
  return {
    ask: (msg, to, port) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          sock.off('message', onMsg);
          resolve(undefined);
        }, 1500);
        const onMsg = (m: Buffer, rinfo: dgram.RemoteInfo) => {
          clearTimeout(timer);
          sock.off('message', onMsg);
          resolve({ text: m.toString(), from: `${rinfo.address}:${rinfo.port}` });
        };
        sock.on('message', onMsg);
        sock.send(msg, port, to);
      }),
    close: () => sock.close(),
  };
}

describe('UDP', () => {
  it('TCP and UDP on the same port both work; removing UDP stops only UDP', async () => {
    await applyDual('dual', '127.51.96.81', ['127.51.1.81']);
    expect(await udpAsk('127.51.96.81', 8053, 'hostname')).toBe('127.51.1.81:8053');
    expect((await curl('http://127.51.96.81:8053/')).body).toBe('127.51.1.81:8053');
    await applyDual('dual', '127.51.96.81', ['127.51.1.81'], [dnsLike[1]!]);
    // No answer, and not for want of waiting: nothing listens, so the kernel refuses the datagram.
    expect(await udpRefusal('127.51.96.81', 8053)).toBe('ECONNREFUSED');
    expect((await curl('http://127.51.96.81:8053/')).body).toBe('127.51.1.81:8053');
  });

  it('replies come from the service address and the endpoint sees the client address', async () => {
    await applyDual('src', '127.51.96.82', ['127.51.1.81']);
    const c = await client('127.51.200.81');
    const r = await c.ask('clientip', '127.51.96.82', 8053);
    c.close();
    expect(r?.from).toBe('127.51.96.82:8053');
    expect(r?.text.split(':')[0]).toBe('127.51.200.81');
  });

  it('one client ip:port keeps its endpoint; the session ends after the idle timeout', async () => {
    await applyDual('sess', '127.51.96.83', ['127.51.1.81', '127.51.2.81', '127.51.1.82']);
    const c = await client('127.51.200.82');
    const first = (await c.ask('hostname', '127.51.96.83', 8053))?.text;
    expect(first).toBeDefined();
    for (let i = 0; i < 5; i++) expect((await c.ask('hostname', '127.51.96.83', 8053))?.text).toBe(first);
    // Other client ports are other sessions and rotate on.
    const others = new Set<string | undefined>();
    for (let i = 0; i < 3; i++) others.add(await udpAsk('127.51.96.83', 8053, 'hostname', { from: '127.51.200.83' }));
    expect(others.size).toBe(3);
    // Idle just under the timeout, twice: the session lives on, as each datagram restarts its idle time.
    for (let i = 0; i < 2; i++) {
      clock.advance(399);
      expect((await c.ask('hostname', '127.51.96.83', 8053))?.text).toBe(first);
    }
    clock.advance(400);
    // The idle session is gone: the same client ip:port starts a new one, on the next endpoint.
    expect((await c.ask('hostname', '127.51.96.83', 8053))?.text).not.toBe(first);
    c.close();
  });

  it('a session to an endpoint that left is flushed and the next datagram goes elsewhere', async () => {
    await applyDual('flush', '127.51.96.84', ['127.51.1.81', '127.51.2.81']);
    const c = await client('127.51.200.84');
    const first = (await c.ask('hostname', '127.51.96.84', 8053))!.text;
    const remaining = ['127.51.1.81', '127.51.2.81'].filter((ip) => !first.startsWith(ip));
    rig.informers.upsert(slice('flush', dnsLike.map((p) => ({ name: p.name, port: 8053, protocol: p.protocol })), remaining.map((ip) => ({ ip }))));
    await rig.proxy.sync();
    expect((await c.ask('hostname', '127.51.96.84', 8053))?.text).toBe(`${remaining[0]}:8053`);
    c.close();
  });

  it('ClientIP affinity holds across UDP sessions from one client IP', async () => {
    rig.informers.upsert(svc('uaff', { clusterIP: '127.51.96.85', sessionAffinity: 'ClientIP', ports: [dnsLike[0]!] }));
    rig.informers.upsert(slice('uaff', [{ name: 'dns', port: 8053, protocol: 'UDP' }], ['127.51.1.81', '127.51.2.81', '127.51.1.82'].map((ip) => ({ ip }))));
    await rig.proxy.sync();
    const seen = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) seen.add(await udpAsk('127.51.96.85', 8053, 'hostname', { from: '127.51.200.85' }));
    expect(seen.size).toBe(1);
  });
});

describe('lifecycle', () => {
  it('serves /metrics and /healthz, and close() frees every socket and timer it made', async () => {
    // The shared rig's sessions run on its fake clock: its sockets stay as they are meanwhile.
    await closesDone();
    const before = socketHandles();
    const timers = trackTimers();
    const other = await startRig({ udpIdleTimeoutMs: 60_000, metricsBindAddress: '127.51.0.4:10249', healthzBindAddress: '127.51.0.4:10256' });
    other.informers.upsert(svc('life', { clusterIP: '127.51.96.90', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31190, ports: [{ name: 'u', port: 8053, protocol: 'UDP', nodePort: 30190 }, { name: 't', port: 8053, protocol: 'TCP', nodePort: 30190 }] }, { lbIPs: ['127.51.255.210'] }));
    other.informers.upsert(slice('life', [{ name: 'u', port: 8053, protocol: 'UDP' }, { name: 't', port: 8053, protocol: 'TCP' }], [{ ip: '127.51.1.81', node: 'node-1' }]));
    await other.proxy.sync();
    expect(other.proxy.listeners().length).toBeGreaterThanOrEqual(8);
    expect(await udpAsk('127.51.96.90', 8053, 'hostname')).toBe('127.51.1.81:8053');
    expect((await curl('http://127.51.96.90:8053/')).code).toBe(0);
    const metrics = await curl('http://127.51.0.4:10249/metrics');
    expect(metrics.body).toMatch(/knet_proxy_connections_total\{service="default\/life:t\/TCP",protocol="TCP"\} 1/);
    expect(metrics.body).toMatch(/knet_proxy_connections_total\{service="default\/life:u\/UDP",protocol="UDP"\} 1/);
    expect(JSON.parse((await curl('http://127.51.0.4:10256/healthz')).body)).toMatchObject({ nodeEligible: true });
    // A held connection (no local endpoint on node-2) must be freed too.
    const held = curl('http://127.51.0.3:30190/', { from: '127.51.200.86', maxTime: 10 });
    const holding = /knet_proxy_connections_failed_total\{service="default\/life:t\/TCP",reason="no_local_endpoints"\} 1/;
    await waitUntil(async () => holding.test(await other.proxy.metrics.metrics()), { timeoutMs: 5000, onTimeout: () => new Error('the proxy never held the connection') });
    await other.close();
    expect((await held).code).not.toBe(0);
    timers.stop();
    expect(timers.pending()).toEqual([]);
    expect(await socketsSettled(before)).toEqual(before);
  });
});
