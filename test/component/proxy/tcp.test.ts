/**
 * TCP semantics a NAT keeps: half-close, resets both ways, back-pressure, a dying endpoint
 * closing only its own connections, connect retries, and port edits that leave established
 * connections alone. Also a bind failure that is reported while everything else serves.
 * Addresses: ClusterIPs 127.51.96.61–79, backends 127.51.1.61–72 and 127.51.2.61–73.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { createLogger } from '../../../dataplane/base/log.js';
import { fakeClock } from '../../support/fake-clock.js';
import { halfClosedStorm } from '../../support/half-close-storm.js';
import { curl, mustConnect, readAll, slice, slowReadHash, startBackend, startRawBackend, startRig, svc, tcpConnect, writePattern, type Rig } from './helpers.js';

let rig: Rig;
const cleanups: Array<() => Promise<void>> = [];
const warnings: Array<{ service?: string; reason: string; message: string }> = [];
/** Bind retries run on this clock; every failed bind attempt is a "listener not bound" line. */
const clock = fakeClock();
const failedBinds: Array<{ address: string; port: number }> = [];

beforeAll(async () => {
  rig = await startRig({
    bindRetryMs: 200,
    clock,
    log: createLogger('proxy', {
      level: process.env.KNET_LOG_LEVEL === 'debug' ? 'debug' : 'warn',
      write: (line) => {
        const l = JSON.parse(line) as { msg: string; address: string; port: number };
        if (l.msg === 'listener not bound') failedBinds.push({ address: l.address, port: l.port });
        process.stderr.write(`${line}\n`);
      },
    }),
    events: { record: (o, _type, reason, message) => warnings.push({ service: o.metadata?.name, reason, message }), flush: async () => {} },
  });
});

afterAll(async () => {
  await rig?.close();
  for (const c of cleanups) await c();
});

async function apply(name: string, clusterIP: string, ips: string[], ports = [{ port: 8080 }], backendPort = 9000) {
  rig.informers.upsert(svc(name, { clusterIP, ports }));
  rig.informers.upsert(slice(name, ports.map((p) => ({ ...('name' in p ? { name: (p as { name: string }).name } : {}), port: backendPort })), ips.map((ip) => ({ ip }))));
  await rig.proxy.sync();
}

const connect = mustConnect;

function echoOnce(s: net.Socket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    s.once('data', (d) => resolve(d.toString()));
    s.once('error', reject);
    s.write(msg);
  });
}

const echo = (s: net.Socket) => s.pipe(s);

describe('TCP', () => {
  it('half-close passes through: a client that shuts its write side still gets the answer', async () => {
    const b = await startRawBackend('127.51.1.61', 9000, (s) => {
      let n = 0;
      s.on('data', (d) => (n += d.length));
      s.on('end', () => s.end(`got ${n} bytes`));
    });
    cleanups.push(b.close);
    await apply('half', '127.51.96.61', ['127.51.1.61']);
    const c = await connect('127.51.96.61', 8080);
    const all = readAll(c);
    c.end('x'.repeat(100_000));
    expect(await all).toEqual({ data: 'got 100000 bytes', error: 'EOF' });
  });

  it('a reset from the endpoint reaches the client', async () => {
    const b = await startRawBackend('127.51.1.62', 9000, (s) => s.once('data', () => s.resetAndDestroy()));
    cleanups.push(b.close);
    await apply('rst', '127.51.96.62', ['127.51.1.62']);
    const c = await connect('127.51.96.62', 8080);
    const all = readAll(c);
    c.write('hello');
    expect((await all).error).toBe('ECONNRESET');
  });

  it('a reset from the client reaches the endpoint', async () => {
    let seen: Promise<string> | undefined;
    const b = await startRawBackend('127.51.1.63', 9000, (s) => {
      seen = new Promise((resolve) => {
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.on('close', () => resolve('closed without error'));
      });
      s.on('data', () => {});
      s.write('ready');
    });
    cleanups.push(b.close);
    await apply('rst2', '127.51.96.63', ['127.51.1.63']);
    const c = await connect('127.51.96.63', 8080);
    await new Promise((r) => c.once('data', r));
    c.resetAndDestroy();
    expect(await seen).toBe('ECONNRESET');
  });

  it('back-pressure: a client that does not read stops the endpoint’s writes', async () => {
    const total = 256 * 1024 * 1024;
    let written = 0;
    const b = await startRawBackend('127.51.1.64', 9000, (s) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      s.on('error', () => {});
      pump();
    });
    cleanups.push(b.close);
    await apply('bp', '127.51.96.64', ['127.51.1.64']);
    const c = await connect('127.51.96.64', 8080);
    c.pause();
    // Let the buffers along the path fill; then the writer must be stuck far below the total.
    let last = -1;
    while (last !== written) {
      last = written;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(written).toBeLessThan(64 * 1024 * 1024);
    c.destroy();
  });

  it('bytes arrive intact both ways while a slow reader keeps the proxy’s writes queued', async () => {
    const b = await startRawBackend('127.51.1.67', 9000, (s) => {
      s.on('error', () => {});
      echo(s);
    });
    cleanups.push(b.close);
    await apply('intact', '127.51.96.71', ['127.51.1.67']);
    const c = await connect('127.51.96.71', 8080);
    const total = 24 * 1024 * 1024;
    // The echo's bytes queue in the proxy's writes to this slow-reading client.
    const [sent, got] = await Promise.all([writePattern(c, total, 48 * 1024), slowReadHash(c, total)]);
    expect(got.received).toBe(total);
    expect(got.sha256).toBe(sent);
    c.destroy();
  });

  it('an endpoint killed mid-stream closes only its own connections', async () => {
    const tagged = (tag: string) => (s: net.Socket) => s.on('data', (d) => s.write(`${tag}${d}`));
    const backends = {
      a: await startRawBackend('127.51.1.65', 9000, tagged('a:')),
      b: await startRawBackend('127.51.2.65', 9000, tagged('b:')),
    };
    cleanups.push(backends.a.close, backends.b.close);
    await apply('kill', '127.51.96.65', ['127.51.1.65', '127.51.2.65']);
    const c1 = await connect('127.51.96.65', 8080);
    const c2 = await connect('127.51.96.65', 8080);
    const [tag1, msg1] = (await echoOnce(c1, 'one')).split(':') as ['a' | 'b', string];
    const [tag2, msg2] = (await echoOnce(c2, 'two')).split(':') as ['a' | 'b', string];
    expect([msg1, msg2]).toEqual(['one', 'two']);
    // Round robin sent the two connections to different endpoints.
    expect(new Set([tag1, tag2]).size).toBe(2);
    const a = backends[tag1];
    const b = backends[tag2];
    // kill -9 closes the pod's sockets: FIN, or RST when data was unread.
    const c1done = readAll(c1);
    for (const s of a.sockets) s.resetAndDestroy();
    expect((await c1done).error).toBe('ECONNRESET');
    expect(await echoOnce(c2, 'still here')).toBe(`${tag2}:still here`);
    // A graceful close of the other endpoint reaches its client as EOF.
    const c2done = readAll(c2);
    for (const s of b.sockets) s.destroy();
    expect((await c2done).error).toBe('EOF');
    c1.destroy();
    c2.destroy();
  });

  it('a refusing endpoint is skipped: every request succeeds through the retry', async () => {
    const live = await startBackend('127.51.1.66', 9000);
    cleanups.push(live.close);
    await apply('retry', '127.51.96.66', ['127.51.1.66', '127.51.2.66' /* nothing listens here */]);
    for (let i = 0; i < 6; i++) {
      const r = await curl('http://127.51.96.66:8080/');
      expect(r.code).toBe(0);
      expect(r.body).toBe('127.51.1.66:9000');
    }
    const failures = await rig.proxy.metrics.getSingleMetric('knet_proxy_endpoint_connect_failures_total')!.get();
    expect(failures.values.some((v) => v.labels.endpoint === '127.51.2.66:9000' && v.value > 0)).toBe(true);
  });

  it('each retry goes to an endpoint the connection has not tried: 2 of 3 refusing, 150 clients at once all served', async () => {
    // Concurrent connections advance the shared rotation between one connection's attempts,
    // so retrying "the next in rotation" could land on refusing endpoints four times running
    // (a rollout's pods that exited before the proxy heard of it): an empty reply.
    const live = await startBackend('127.51.1.72', 9000);
    cleanups.push(live.close);
    await apply('untried', '127.51.96.72', ['127.51.1.72', '127.51.2.72', '127.51.2.73' /* nothing listens on these two */]);
    const { outcomes, samples } = await halfClosedStorm('127.51.96.72', 8080, 150, '/');
    expect(outcomes, samples.join('\n')).toEqual({ ok: 150 });
  });

  it('when every attempt fails the client is closed (curl 52, empty reply)', async () => {
    await apply('alldead', '127.51.96.67', ['127.51.2.67']);
    expect((await curl('http://127.51.96.67:8080/')).code).toBe(52);
  });

  it('changing a service’s ports keeps established connections', async () => {
    const b = await startRawBackend('127.51.1.68', 9000, echo);
    cleanups.push(b.close);
    const ports = [{ name: 'a', port: 8080 }, { name: 'b', port: 8081 }];
    await apply('ports', '127.51.96.68', ['127.51.1.68'], ports);
    const onA = await connect('127.51.96.68', 8080);
    const onB = await connect('127.51.96.68', 8081);
    expect(await echoOnce(onA, 'a1')).toBe('a1');
    expect(await echoOnce(onB, 'b1')).toBe('b1');
    // Drop port b, add port c, switch affinity: port a's connection must not notice.
    rig.informers.upsert(svc('ports', { clusterIP: '127.51.96.68', sessionAffinity: 'ClientIP', ports: [{ name: 'a', port: 8080 }, { name: 'c', port: 8082 }] }));
    rig.informers.upsert(slice('ports', [{ name: 'a', port: 9000 }, { name: 'c', port: 9000 }], [{ ip: '127.51.1.68' }]));
    await rig.proxy.sync();
    expect(await echoOnce(onA, 'a2')).toBe('a2');
    // The removed port takes no new connections, but its established flow lives on (conntrack).
    expect(await tcpConnect('127.51.96.68', 8081)).toBe('ECONNREFUSED');
    expect(await echoOnce(onB, 'b2')).toBe('b2');
    const onC = await connect('127.51.96.68', 8082);
    expect(await echoOnce(onC, 'c1')).toBe('c1');
    for (const s of [onA, onB, onC]) s.destroy();
  });

  it('a listener that cannot be bound is reported with the fix, and everything else serves', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen({ host: '127.51.96.69', port: 8080 }, r));
    const live = await startBackend('127.51.1.69', 9000);
    cleanups.push(live.close);
    await apply('blocked', '127.51.96.69', ['127.51.1.69']);
    await apply('fine', '127.51.96.70', ['127.51.1.69']);
    const errs = rig.proxy.bindErrors().filter((e) => e.address === '127.51.96.69');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ service: 'default/blocked', port: 8080, protocol: 'TCP' });
    expect(errs[0]!.error).toMatch(/another program holds it.*Fix/);
    expect((await curl('http://127.51.96.70:8080/')).body).toBe('127.51.1.69:9000');
    // Three retries later (one every 200 ms) the Service still has one Warning event, with the fix.
    const attempts = () => failedBinds.filter((b) => b.address === '127.51.96.69' && b.port === 8080).length;
    const first = attempts();
    for (let i = 1; i <= 3; i++) {
      clock.advance(200);
      await waitUntil(() => attempts() === first + i, { timeoutMs: 5000, onTimeout: () => new Error(`bind retry ${i} did not run`) });
    }
    expect(warnings.filter((w) => w.service === 'blocked')).toEqual([{ service: 'blocked', reason: 'FailedToBindServicePort', message: errs[0]!.error }]);
    // Once the port is free the retry binds it.
    await new Promise<void>((r) => squatter.close(() => r()));
    clock.advance(200);
    await waitUntil(() => rig.proxy.listeners().some((l) => l.address === '127.51.96.69'), { timeoutMs: 5000, onTimeout: () => new Error('the retry did not bind 127.51.96.69:8080') });
    const r = await curl('http://127.51.96.69:8080/');
    expect(r.body).toBe('127.51.1.69:9000');
    expect(rig.proxy.bindErrors().filter((e) => e.address === '127.51.96.69')).toEqual([]);
  });
});
