/**
 * loadBalancerSourceRanges through the real proxy with real sockets: clients bound to different
 * 127.x source addresses. A source outside the ranges is dropped at the LoadBalancer IP — held
 * silent as a dropped SYN: no byte, no FIN, no reset — counted as source_range_denied and
 * logged at debug with the reason, while a source inside is answered; the NodePort of the same
 * Service is not guarded; UDP datagrams are dropped; a range change lets a held connection
 * through, as a retransmitted SYN would get through.
 * Addresses: ClusterIPs 127.51.96.111–119, backends 127.51.1.111 (node-1) / 127.51.2.111
 * (node-2), LB IPs 127.51.255.221–229, nodePorts 3011x; clients 127.51.200.11x (inside
 * 127.51.200.0/24) and 127.51.201.11x (outside).
 */
import dgram from 'node:dgram';
import type net from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { createLogger } from '../../../dataplane/base/log.js';
import { curl, NODE1, slice, startBackend, startRig, svc, tcpConnect, udpAsk, type Backend, type Rig } from './helpers.js';
import type { EP } from '../../unit/proxy/fixtures.js';

const ON1: EP = { ip: '127.51.1.111', node: 'node-1', pod: 'web-1' };
const INSIDE = '127.51.200.111';
const OUTSIDE = '127.51.201.111';
const RANGES = ['127.51.200.0/24'];

interface LogLine {
  msg: string;
  service?: string;
  client?: string;
  reason?: string;
  cause?: string;
}

let rig: Rig;
let backends: Backend[];
const lines: LogLine[] = [];

beforeAll(async () => {
  backends = [await startBackend(ON1.ip, 8080, { udp: true })];
  rig = await startRig({ log: createLogger('proxy', { level: 'debug', write: (l) => lines.push(JSON.parse(l) as LogLine) }) });
});

afterAll(async () => {
  await rig?.close();
  await Promise.all(backends.map((b) => b.close()));
});

function lbService(name: string, clusterIP: string, lbIP: string, nodePort: number, extra: { ranges?: string[]; annotation?: string; protocol?: 'TCP' | 'UDP' } = {}): Service {
  const s = svc(
    name,
    { clusterIP, type: 'LoadBalancer', ports: [{ port: 8080, nodePort, protocol: extra.protocol ?? 'TCP' }], ...(extra.ranges ? { loadBalancerSourceRanges: extra.ranges } : {}) },
    { lbIPs: [lbIP] },
  );
  if (extra.annotation) s.metadata!.annotations = { 'service.beta.kubernetes.io/load-balancer-source-ranges': extra.annotation };
  return s;
}

async function apply(s: Service, protocol: 'TCP' | 'UDP' = 'TCP'): Promise<void> {
  rig.informers.upsert(s);
  rig.informers.upsert(slice(s.metadata!.name!, [{ port: 8080, protocol }], [ON1]));
  await rig.proxy.sync();
}

const dropped = (key: string, n: number) => new RegExp(`knet_proxy_connections_failed_total\\{service="${key.replace(/[/]/g, '\\/')}",reason="source_range_denied"\\} ${n}\\n`);
const waitForDrops = (key: string, n: number) =>
  waitUntil(async () => dropped(key, n).test(await rig.proxy.metrics.metrics()), { timeoutMs: 5000, onTimeout: () => new Error(`the proxy never counted ${n} dropped connection(s) of ${key}`) });

/** What a socket has seen so far: bytes, a FIN, an error, a close. */
function watch(s: net.Socket) {
  const seen = { data: '', end: false, error: undefined as string | undefined, closed: false };
  s.on('data', (d) => (seen.data += d.toString()));
  s.on('end', () => (seen.end = true));
  s.on('error', (e: NodeJS.ErrnoException) => (seen.error = e.code ?? e.message));
  s.on('close', () => (seen.closed = true));
  return seen;
}

async function connect(address: string, port: number, from: string): Promise<net.Socket> {
  const s = await tcpConnect(address, port, from);
  if (typeof s === 'string') throw new Error(`connect ${address}:${port} from ${from}: ${s}`);
  return s;
}

describe('TCP', () => {
  it('drops a source outside the ranges at the LB IP, silently, while one inside and the NodePort are served', async () => {
    const key = 'default/lbsr:/TCP';
    await apply(lbService('lbsr', '127.51.96.111', '127.51.255.221', 30111, { ranges: RANGES }));

    const denied = await connect('127.51.255.221', 8080, OUTSIDE);
    const seen = watch(denied);
    denied.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitForDrops(key, 1);

    // Another source, the same address and port: answered.
    const allowed = await curl('http://127.51.255.221:8080/', { from: INSIDE });
    expect(allowed).toEqual({ code: 0, body: `${ON1.ip}:8080` });
    // The same outside source through the NodePort: not guarded (upstream: "nodeports are not subject to loadBalancerSourceRanges").
    expect(await curl(`http://${NODE1.ip}:30111/`, { from: OUTSIDE })).toEqual({ code: 0, body: `${ON1.ip}:8080` });

    // Nothing reached the dropped client: no byte, no FIN, no reset.
    expect(seen).toEqual({ data: '', end: false, error: undefined, closed: false });
    const metrics = await rig.proxy.metrics.metrics();
    expect(metrics).not.toMatch(/knet_proxy_resets_total\{service="default\/lbsr/);
    expect(metrics).toMatch(dropped(key, 1));
    // The debug line says why.
    expect(lines.find((l) => l.msg === 'holding connection silent' && l.service === key)).toMatchObject({
      client: expect.stringMatching(new RegExp(`^${OUTSIDE.replace(/\./g, '\\.')}:\\d+$`)),
      cause: 'source_range_denied',
      reason: `source ${OUTSIDE} is outside loadBalancerSourceRanges [127.51.200.0/24] of ${key}`,
    });
    denied.destroy();
  });

  it('a range change that admits the source lets a held connection through', async () => {
    await apply(lbService('lbsr-late', '127.51.96.112', '127.51.255.222', 30112, { ranges: RANGES }));
    const held = await connect('127.51.255.222', 8080, OUTSIDE);
    const reply = new Promise<string>((resolve) => {
      let data = '';
      held.on('data', (d) => (data += d.toString()));
      held.on('end', () => resolve(data));
    });
    held.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitForDrops('default/lbsr-late:/TCP', 1);
    await apply(lbService('lbsr-late', '127.51.96.112', '127.51.255.222', 30112, { ranges: [...RANGES, '127.51.201.0/24'] }));
    expect(await reply).toContain(`${ON1.ip}:8080`);
    held.destroy();
  });

  it('the annotation guards when the field is empty; pods are checked too; the node’s own VIP-sourced packets pass when its IP is in a range', async () => {
    const key = 'default/lbsr-ann:/TCP';
    await apply(lbService('lbsr-ann', '127.51.96.113', '127.51.255.223', 30113, { annotation: `127.51.200.0/24, ${NODE1.ip}/32` }));
    expect(await curl('http://127.51.255.223:8080/', { from: INSIDE })).toEqual({ code: 0, body: `${ON1.ip}:8080` });
    // The VIP as the source: node-1 announces it (first by name) and its IP is listed.
    expect(await curl('http://127.51.255.223:8080/', { from: '127.51.255.223' })).toEqual({ code: 0, body: `${ON1.ip}:8080` });
    const pod = watch(await connect('127.51.255.223', 8080, '127.51.2.119'));
    await waitForDrops(key, 1);
    const outsider = watch(await connect('127.51.255.223', 8080, OUTSIDE));
    await waitForDrops(key, 2);
    expect(await curl('http://127.51.255.223:8080/', { from: INSIDE })).toEqual({ code: 0, body: `${ON1.ip}:8080` });
    expect([pod, outsider].map((s) => s.data + (s.end ? 'FIN' : '') + (s.error ?? ''))).toEqual(['', '']);
  });
});

describe('UDP', () => {
  it('drops datagrams from outside the ranges without a session; one from inside is answered', async () => {
    const key = 'default/lbsr-udp:/UDP';
    await apply(lbService('lbsr-udp', '127.51.96.114', '127.51.255.224', 30114, { ranges: RANGES, protocol: 'UDP' }), 'UDP');
    const sock = dgram.createSocket('udp4');
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((resolve) => sock.bind({ address: OUTSIDE, port: 0 }, resolve));
    sock.send('hello', 8080, '127.51.255.224');
    await waitForDrops(key, 1);
    sock.send('hello', 8080, '127.51.255.224');
    await waitForDrops(key, 2);
    expect(await udpAsk('127.51.255.224', 8080, 'hello', { from: INSIDE })).toBe(`${ON1.ip}:8080`);
    // Only the inside client's session was opened; nothing came back to the outside one.
    expect(await rig.proxy.metrics.metrics()).toMatch(/knet_proxy_connections_total\{service="default\/lbsr-udp:\/UDP",protocol="UDP"\} 1\n/);
    expect(replies).toEqual([]);
    expect(lines.some((l) => l.msg === 'dropped a datagram' && l.service === key && l.reason?.startsWith(`source ${OUTSIDE} is outside`))).toBe(true);
    sock.close();
  });
});
