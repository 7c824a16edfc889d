/**
 * The forwarded byte path's NAT semantics through a real proxy, once on Node's native stream
 * handles (tcp-fast-path.ts) and once with `nativeSockets: false` (net's public API only):
 * half-close both ways, resets both ways, back-pressure both ways, bytes intact with slow
 * readers, and byte counts. tcp.test.ts covers the same and more on the default path.
 * Addresses: ClusterIPs 127.51.96.101–109 (native) and .121–129 (public), backends
 * 127.51.1.101–109 and .121–129.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustConnect, readAll, slice, slowReadHash, startRawBackend, startRig, svc, writePattern, type Rig } from './helpers.js';

describe.each([
  { nativeSockets: true, base: 100, label: 'native handles' },
  { nativeSockets: false, base: 120, label: 'public API' },
])('byte path ($label)', ({ nativeSockets, base }) => {
  let rig: Rig;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    rig = await startRig({ nativeSockets });
  });

  afterAll(async () => {
    await rig?.close();
    for (const c of cleanups.splice(0)) await c();
  });

  /** A service on ClusterIP 127.51.96.(base+n):8080 → a raw backend on 127.51.1.(base+n):9000. */
  async function through(n: number, onConnection: (s: net.Socket) => void): Promise<net.Socket> {
    const ip = `127.51.1.${base + n}`;
    const clusterIP = `127.51.96.${base + n}`;
    const b = await startRawBackend(ip, 9000, (s) => {
      s.on('error', () => {});
      onConnection(s);
    });
    cleanups.push(b.close);
    const name = `bp-${base + n}`;
    rig.informers.upsert(svc(name, { clusterIP, ports: [{ port: 8080 }] }));
    rig.informers.upsert(slice(name, [{ port: 9000 }], [{ ip }]));
    await rig.proxy.sync();
    return mustConnect(clusterIP, 8080);
  }

  /** Resolves once `count()` stops moving for 200 ms. */
  async function settled(count: () => number): Promise<number> {
    let last = -1;
    while (last !== count()) {
      last = count();
      await new Promise((r) => setTimeout(r, 200));
    }
    return last;
  }

  it('half-close from the client: it still gets the answer', async () => {
    const c = await through(1, (s) => {
      let n = 0;
      s.on('data', (d) => (n += d.length));
      s.on('end', () => s.end(`got ${n} bytes`));
    });
    const all = readAll(c);
    c.end('x'.repeat(100_000));
    expect(await all).toEqual({ data: 'got 100000 bytes', error: 'EOF' });
  });

  it('a FIN sent before the endpoint connection is up still reaches the endpoint', async () => {
    // The client connects and shuts down its write side at once, without a byte (`nc -N`
    // with empty input): the proxy reads that EOF while still connecting to the endpoint.
    const ends: string[] = [];
    const ip = `127.51.1.${base + 9}`;
    const clusterIP = `127.51.96.${base + 9}`;
    const b = await startRawBackend(ip, 9000, (s) => {
      s.on('error', () => {});
      s.on('end', () => s.end('bye'));
      s.resume();
    });
    cleanups.push(b.close);
    rig.informers.upsert(svc(`bp-${base + 9}`, { clusterIP, ports: [{ port: 8080 }] }));
    rig.informers.upsert(slice(`bp-${base + 9}`, [{ port: 9000 }], [{ ip }]));
    await rig.proxy.sync();
    for (let i = 0; i < 10; i++) {
      const got = await new Promise<string>((resolve) => {
        const c = net.connect({ host: clusterIP, port: 8080, allowHalfOpen: true }, () => c.end());
        let data = '';
        c.on('data', (d) => (data += d.toString()));
        c.on('end', () => resolve(data));
        c.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
        setTimeout(() => resolve(`no EOF after 2 s (${data})`), 2000).unref();
      });
      ends.push(got);
    }
    expect(ends).toEqual(Array(10).fill('bye'));
  });

  it('half-close from the endpoint: the client sees EOF and can still send', async () => {
    let heard: (s: string) => void = () => {};
    const after = new Promise<string>((r) => (heard = r));
    const c = await through(2, (s) => {
      let got = '';
      s.end('bye');
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => heard(got));
    });
    expect(await readAll(c)).toEqual({ data: 'bye', error: 'EOF' });
    c.end('still talking');
    expect(await after).toBe('still talking');
  });

  it('a reset from the endpoint reaches the client, and one from the client reaches the endpoint', async () => {
    const c1 = await through(3, (s) => s.once('data', () => s.resetAndDestroy()));
    const all = readAll(c1);
    c1.write('hello');
    expect((await all).error).toBe('ECONNRESET');

    let seen: Promise<string> | undefined;
    const c2 = await through(4, (s) => {
      seen = new Promise((resolve) => {
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.on('close', () => resolve('closed without error'));
      });
      s.on('data', () => {});
      s.write('ready');
    });
    await new Promise((r) => c2.once('data', r));
    c2.resetAndDestroy();
    expect(await seen).toBe('ECONNRESET');
  });

  it('back-pressure both ways: a side that does not read stops the other’s writes', async () => {
    const limit = 64 * 1024 * 1024;
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const flood = (s: net.Socket, onWrite: (n: number) => void) => {
      const go = () => {
        for (;;) {
          onWrite(chunk.length);
          if (!s.write(chunk)) {
            s.once('drain', go);
            return;
          }
        }
      };
      go();
    };
    const c = await through(5, (s) => flood(s, (n) => (written += n)));
    c.pause();
    expect(await settled(() => written)).toBeLessThan(limit);
    c.destroy();

    let sent = 0;
    const c2 = await through(6, (s) => s.pause());
    c2.on('error', () => {});
    flood(c2, (n) => (sent += n));
    expect(await settled(() => sent)).toBeLessThan(limit);
    c2.destroy();
  });

  it('bytes arrive intact both ways while slow readers keep the proxy’s writes queued, and are counted', async () => {
    const total = 16 * 1024 * 1024;
    const c = await through(7, (s) => {
      // An echo that stalls now and then, so the client's bytes queue in the proxy's writes too.
      let n = 0;
      s.on('data', (d: Buffer) => {
        n += d.length;
        if (!s.write(d) || n % (2 * 1024 * 1024) < d.length) {
          s.pause();
          setTimeout(() => s.resume(), 5);
        }
      });
    });
    const [sent, got] = await Promise.all([writePattern(c, total, 40 * 1024), slowReadHash(c, total)]);
    expect(got.received).toBe(total);
    expect(got.sha256).toBe(sent);
    c.destroy();
    const bytes = await rig.proxy.metrics.getSingleMetric('knet_proxy_bytes_total')!.get();
    const of = (direction: string) => bytes.values.find((v) => v.labels.service === `default/bp-${base + 7}:/TCP` && v.labels.direction === direction)?.value;
    expect([of('in'), of('out')]).toEqual([total, total]);
  });
});
