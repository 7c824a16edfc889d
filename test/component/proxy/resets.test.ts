/**
 * Resets through a real proxy, on Node's native stream handles and on net's public API:
 * - issue #18: 2,000 clients at once that write a request and shut down their write side get
 *   every answer whole through a ClusterIP and a NodePort (with Node's listen backlog of 511
 *   the kernel answered the overflow with SYN cookies and reset a fifth of them);
 * - every reset the proxy sends or passes on is counted in knet_proxy_resets_total by reason
 *   and logged with the service port, client, endpoint, pod and reason.
 * Addresses: ClusterIPs 127.51.96.141–149 (native) and .161–169 (public), backends
 * 127.51.1.141–150 and .161–169, NodePorts 30241 and 30261; ClusterIP .150 for the listener log.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../dataplane/base/log.js';
import { listenBacklog } from '../../../dataplane/base/net/listen-backlog.js';
import { halfClosedStorm } from '../../support/half-close-storm.js';
import { mustConnect, NODE1, readAll, slice, startRawBackend, startRig, svc, type Rig } from './helpers.js';

const CLIENTS = 2000;

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

describe.each([
  { nativeSockets: true, base: 140, nodePort: 30241, label: 'native handles' },
  { nativeSockets: false, base: 160, nodePort: 30261, label: 'public API' },
])('resets ($label)', ({ nativeSockets, base, nodePort }) => {
  let rig: Rig;
  const lines: LogLine[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    const log = createLogger('proxy', { level: 'info', write: (l) => lines.push(JSON.parse(l) as LogLine) });
    rig = await startRig({ nativeSockets, log });
  });

  afterAll(async () => {
    await rig?.close();
    for (const c of cleanups.splice(0)) await c();
  });

  async function resetsCounted(): Promise<Record<string, number>> {
    const m = await rig.proxy.metrics.getSingleMetric('knet_proxy_resets_total')!.get();
    return Object.fromEntries(m.values.filter((v) => v.value > 0).map((v) => [`${v.labels.service} ${v.labels.reason}`, v.value]));
  }

  const resetLines = (service: string) => lines.filter((l) => l.msg.startsWith('connection reset') && l.service === service);

  it('says in its start log which byte path TCP takes, and warns only when it is not the one asked for', () => {
    const started = lines.find((l) => l.msg === 'proxy started');
    expect(started?.tcpFastPath).toBe(nativeSockets ? 'native handles' : 'public API (nativeSockets: false)');
    expect(lines.filter((l) => l.level === 'warn' && l.msg.includes('fast path'))).toEqual([]);
  });

  /** Service rs-(base+n) on ClusterIP 127.51.96.(base+n):8080 → pod-(n) at 127.51.1.(base+n):9000. */
  async function serve(n: number, extra: Parameters<typeof svc>[1] = {}): Promise<{ clusterIP: string; key: string }> {
    const name = `rs-${base + n}`;
    const clusterIP = `127.51.96.${base + n}`;
    rig.informers.upsert(svc(name, { clusterIP, ports: [{ port: 8080 }], ...extra }));
    rig.informers.upsert(slice(name, [{ port: 9000 }], [{ ip: `127.51.1.${base + n}`, node: NODE1.name, pod: `pod-${n}` }]));
    await rig.proxy.sync();
    return { clusterIP, key: `default/${name}:/TCP` };
  }

  it(`${CLIENTS} half-closed clients at once through a ClusterIP and a NodePort: every answer whole, no reset`, async () => {
    // The pod stand-in listens as a Go program does (the kernel's maximum backlog), so any
    // reset here is the proxy's.
    const server = http.createServer((_req, res) => res.end('hello from the pod'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: `127.51.1.${base + 1}`, port: 9000, backlog: listenBacklog() }, resolve);
    });
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { clusterIP, key } = await serve(1, { type: 'NodePort', ports: [{ port: 8080, nodePort }] });

    for (const [host, port] of [[clusterIP, 8080], [NODE1.ip, nodePort]] as const) {
      const { outcomes, samples } = await halfClosedStorm(host, port, CLIENTS, '/');
      expect(outcomes, `${host}:${port}\n${samples.join('\n')}`).toEqual({ ok: CLIENTS });
    }
    expect(await resetsCounted()).toEqual({});
    expect(resetLines(key)).toEqual([]);
  }, 60_000);

  it('an endpoint reset reaches the client, counted and logged as endpoint_reset', async () => {
    const b = await startRawBackend(`127.51.1.${base + 2}`, 9000, (s) => s.once('data', () => s.resetAndDestroy()));
    cleanups.push(b.close);
    const { clusterIP, key } = await serve(2);
    const c = await mustConnect(clusterIP, 8080);
    const all = readAll(c);
    c.write('hello');
    expect((await all).error).toBe('ECONNRESET');
    // The proxy counts and logs in the callback that resets the client, so both are there now.
    expect(await resetsCounted()).toMatchObject({ [`${key} endpoint_reset`]: 1 });
    expect(resetLines(key)).toEqual([
      expect.objectContaining({ level: 'info', reason: 'endpoint_reset', endpoint: `127.51.1.${base + 2}:9000`, pod: 'pod-2', client: expect.stringMatching(/^127\.0\.0\.1:\d+$/), error: 'ECONNRESET', action: 'reset the client' }),
    ]);
  });

  it('a client reset reaches the endpoint, counted and logged as client_reset', async () => {
    let seen: Promise<string> | undefined;
    const b = await startRawBackend(`127.51.1.${base + 3}`, 9000, (s) => {
      seen = new Promise((resolve) => {
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.on('close', () => resolve('closed without error'));
      });
      s.resume();
      s.write('ready');
    });
    cleanups.push(b.close);
    const { clusterIP, key } = await serve(3);
    const c = await mustConnect(clusterIP, 8080);
    await new Promise((r) => c.once('data', r));
    c.resetAndDestroy();
    expect(await seen).toBe('ECONNRESET');
    expect(await resetsCounted()).toMatchObject({ [`${key} client_reset`]: 1 });
    expect(resetLines(key)).toEqual([expect.objectContaining({ reason: 'client_reset', endpoint: `127.51.1.${base + 3}:9000`, pod: 'pod-3', action: 'reset the endpoint' })]);
  });

  it('a clean close is no reset: nothing counted, nothing logged', async () => {
    const b = await startRawBackend(`127.51.1.${base + 4}`, 9000, (s) => {
      s.on('end', () => s.end('bye'));
      s.resume();
    });
    cleanups.push(b.close);
    const { clusterIP, key } = await serve(4);
    const c = await mustConnect(clusterIP, 8080);
    const all = readAll(c);
    c.end('hi');
    expect(await all).toEqual({ data: 'bye', error: 'EOF' });
    await new Promise((r) => c.once('close', r));
    expect(Object.keys(await resetsCounted()).filter((k) => k.startsWith(key))).toEqual([]);
    expect(resetLines(key)).toEqual([]);
  });
});

describe('a service port without a usable endpoint', () => {
  it('logs when its listeners close (clients get connection refused) and when they reopen', async () => {
    const lines: LogLine[] = [];
    const rig = await startRig({ log: createLogger('proxy', { level: 'info', write: (l) => lines.push(JSON.parse(l) as LogLine) }) });
    try {
      const key = 'default/rs-150:/TCP';
      const publish = async (ready: boolean) => {
        rig.informers.upsert(slice('rs-150', [{ port: 9000 }], [{ ip: '127.51.1.150', node: NODE1.name, ready }]));
        await rig.proxy.sync();
      };
      rig.informers.upsert(svc('rs-150', { clusterIP: '127.51.96.150', ports: [{ port: 8080 }] }));
      await publish(true);
      const about = () => lines.filter((l) => l.service === key).map((l) => l.msg);
      expect(about()).toEqual([]);
      await publish(false);
      expect(lines.filter((l) => l.service === key)).toEqual([
        expect.objectContaining({ level: 'info', msg: 'no usable endpoint: listeners closed, clients get connection refused', endpoints: 1, notReady: 1 }),
      ]);
      await publish(true);
      expect(about()).toEqual(['no usable endpoint: listeners closed, clients get connection refused', 'usable endpoint again: listeners reopen']);
    } finally {
      await rig.close();
    }
  });
});

describe('the proxy process’s file descriptors', () => {
  it('are exported as process_open_fds and process_max_fds', async () => {
    const rig = await startRig();
    try {
      const text = await rig.proxy.metrics.metrics();
      const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(value('process_open_fds')).toBeGreaterThan(0);
      expect(value('process_max_fds')).toBeGreaterThan(value('process_open_fds'));
    } finally {
      await rig.close();
    }
  });
});
