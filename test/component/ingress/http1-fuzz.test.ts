/**
 * The ingress's HTTP/1.1 server (http1-server.ts) against arbitrary bytes: fast-check writes
 * random byte strings, and valid requests cut and mutated at random, split into random
 * packets. Whatever arrives, the server answers or closes the connection, never throws, and
 * keeps serving a good request on a new connection.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp1 } from '../../../ingress/http1-server.js';

const HOST = '127.52.0.21';
let server: net.Server;
let http1: { close(): void };
let port = 0;
const errors: unknown[] = [];

beforeAll(async () => {
  server = net.createServer();
  http1 = serveHttp1(server, {
    onRequest(req, res) {
      try {
        const chunks: Buffer[] = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => res.writeHead(200, ['Content-Type', 'text/plain']).end(Buffer.from(`${req.method} ${req.url} ${Buffer.concat(chunks).length}`)));
      } catch (err) {
        errors.push(err);
      }
    },
    onUpgrade(_req, socket) {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    },
    onClientError(_err, socket) {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    },
    keepAliveTimeoutMs: 5000,
    maxRequestsPerSocket: 100,
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  http1.close();
  await new Promise((r) => server.close(r));
});

/** Writes the pieces with a turn of the event loop between them; resolves with what came back once the server closed or went quiet. */
function exchange(pieces: Buffer[]): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, HOST);
    let got = '';
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    s.on('data', (d) => {
      got += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, 50);
    });
    s.on('error', () => {});
    s.on('close', done);
    s.on('connect', async () => {
      for (const p of pieces) {
        if (s.destroyed) break;
        s.write(p);
        await new Promise((r) => setImmediate(r));
      }
      timer = setTimeout(done, 100);
    });
  });
}

const good = Buffer.from('POST /ok?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', 'latin1');

/** Splits bytes at the given cut points. */
const split = (bytes: Buffer, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    if (c > prev) out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
};

describe('http1-server under arbitrary input', () => {
  it('a good request split anywhere is answered the same', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(good.length), { maxLength: 6 }), async (cuts) => {
        const got = await exchange(split(good, cuts));
        expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nPOST \/ok\?x=1 5$/);
      }),
      { numRuns: 40 },
    );
  });

  it('random bytes, and requests with random bytes changed, never break the server', async () => {
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(good.length)).map(([edits, cut]) => {
      const b = Buffer.from(good.subarray(0, Math.max(1, cut)));
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    });
    const input = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)), mutated);
    await fc.assert(
      fc.asyncProperty(input, fc.array(fc.nat(300), { maxLength: 4 }), async (bytes, cuts) => {
        const got = await exchange(split(bytes, cuts));
        // An answer, if any, is an HTTP/1.1 response; never a half-written or garbled one.
        if (got !== '') expect(got).toMatch(/^HTTP\/1\.1 (200 OK|400 Bad Request|100 Continue|417 Expectation Failed)\r\n/);
      }),
      { numRuns: 150 },
    );
    expect(errors).toEqual([]);
    expect(await exchange([good])).toMatch(/\r\n\r\nPOST \/ok\?x=1 5$/);
  });
});
