/**
 * The forwarding path byte for byte: request bodies (Content-Length and chunked) reach the pod
 * intact, every response framing the pod may use (Content-Length, chunked, close-delimited,
 * none for HEAD) reaches the client intact, large bodies stream through, and sequential
 * requests reuse one kept-alive connection to the pod.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, endpointSlice, NS, service, World } from './harness.js';

// The same checks through both client-side servers: the lean one (the default) and node:http.
const lean = new World('127.52.0.19', 'lean');
const nodeHttp = new World('127.52.0.20', 'node');
const BIG = Buffer.alloc(3 << 20, 'abcdefghij');
// Random, and larger than loopback's socket buffers, so a slow reader's writes queue up.
const HUGE = randomBytes(24 << 20);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let pod: http.Server;
let raw: net.Server;
let oneShot: net.Server;
let podConnections = 0;
let podRequests = 0;
/** The pod's socket the last request came in on. */
let lastPodSocket: net.Socket | undefined;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-ingress-wire-'));

const ing = (name: string, host: string, svc: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: NS },
  spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
});

/** Writes `bytes` on a new connection to the ingress and reads until the ingress closes it. */
function exchange(w: World, bytes: string): Promise<{ statuses: number[]; text: string }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(w.ingress.ports.http!, w.controllerIp, () => c.write(Buffer.from(bytes, 'latin1')));
    const parts: Buffer[] = [];
    c.on('data', (d: Buffer) => parts.push(d));
    c.on('error', reject);
    c.on('close', () => {
      const text = Buffer.concat(parts).toString('latin1');
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), text });
    });
  });
}

beforeAll(async () => {
  pod = http.createServer((req, res) => {
    podRequests++;
    lastPodSocket = req.socket;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/echo') {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ length: body.length, sha: sha(body), contentLength: req.headers['content-length'] ?? null, transferEncoding: req.headers['transfer-encoding'] ?? null }));
      } else if (req.url === '/big') {
        res.writeHead(200, { 'Content-Length': BIG.length, 'X-Sha': sha(BIG) });
        res.end(req.method === 'HEAD' ? undefined : BIG);
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'Content-Length': HUGE.length });
        res.end(HUGE);
      } else if (req.url === '/chunked') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }); // no length: Node sends chunked
        let i = 0;
        const next = () => (i < 50 ? res.write(`line ${i++}\n`, () => setImmediate(next)) : res.end('end\n'));
        next();
      } else {
        res.writeHead(204).end();
      }
    });
  });
  pod.on('connection', () => podConnections++);
  // A pod that answers HTTP/1.0-style: no length, the body ends when the connection closes.
  raw = net.createServer((s) => {
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection closes\n'));
    s.on('error', () => {});
  });
  // A pod that keeps a connection open after its first answer but drops it unanswered when a
  // second request arrives: what a pod closing an idle connection looks like when the close
  // crosses our next request on the wire.
  oneShot = net.createServer((s) => {
    let served = 0;
    s.on('data', () => {
      if (served++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
      else s.destroy();
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => oneShot.listen(8080, '127.52.19.3', () => r()));
  await new Promise<void>((r) => pod.listen(8080, '127.52.19.1', () => r()));
  await new Promise<void>((r) => raw.listen(8080, '127.52.19.2', () => r()));
  await lean.start();
  await nodeHttp.start();
  for (const w of [lean, nodeHttp]) {
    w.apply(
      service('wire'), endpointSlice('wire', [{ name: 'wire-1', ip: '127.52.19.1', port: 8080 }]),
      service('raw'), endpointSlice('raw', [{ name: 'raw-1', ip: '127.52.19.2', port: 8080 }]),
      ing('wire', 'wire.example.com', 'wire'),
      ing('raw', 'raw.example.com', 'raw'),
      service('oneshot'), endpointSlice('oneshot', [{ name: 'oneshot-1', ip: '127.52.19.3', port: 8080 }]),
      ing('oneshot', 'oneshot.example.com', 'oneshot'),
    );
    await w.settle();
  }
}, 30_000);

afterAll(async () => {
  await lean.close();
  await nodeHttp.close();
  pod?.closeAllConnections();
  await new Promise((r) => pod?.close(r));
  await new Promise((r) => raw?.close(r));
  await new Promise((r) => oneShot?.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

describe.each([
  ['lean server', lean],
  ['node:http', nodeHttp],
])('%s', (_, w) => {
  describe('request bodies reach the pod intact', () => {
    const body = Buffer.alloc(200_000, 'k');
    const file = () => {
      const f = path.join(tmp, 'body');
      writeFileSync(f, body);
      return `@${f}`;
    };

    it('with Content-Length', async () => {
      const r = await curl(['-H', 'Host: wire.example.com', '-H', 'Content-Type: application/octet-stream', '--data-binary', file(), `${w.http}/echo`]);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ length: body.length, sha: sha(body), contentLength: String(body.length), transferEncoding: null });
    });

    it('chunked (re-chunked on the way)', async () => {
      const r = await curl(['-H', 'Host: wire.example.com', '-H', 'Transfer-Encoding: chunked', '--data-binary', file(), `${w.http}/echo`]);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ length: body.length, sha: sha(body), contentLength: null, transferEncoding: 'chunked' });
    });
  });

  describe('every response framing reaches the client intact', () => {
    it('a 3 MiB Content-Length body streams through', async () => {
      const r = await curl(['-H', 'Host: wire.example.com', `${w.http}/big`]);
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toEqual([String(BIG.length)]);
      expect(sha(Buffer.from(r.body, 'latin1'))).toBe(r.headers['x-sha']![0]);
    });

    it('24 MiB to two slow readers at once, while other requests are relayed between their reads', async () => {
      // Pod bytes are read into one shared buffer (upstream-pools.ts); a chunk the slow client's
      // socket still queues must not be overwritten by the next read of another connection.
      const slow = () =>
        new Promise<{ status: number; sha: string }>((resolve, reject) => {
          const req = http.get({ host: w.controllerIp, port: w.ingress.ports.http, path: '/huge', headers: { Host: 'wire.example.com' } }, (res) => {
            const hash = createHash('sha256');
            res.pause();
            setTimeout(() => res.resume(), 300); // the ingress's writes to us queue meanwhile
            res.on('data', (c: Buffer) => {
              hash.update(c);
              res.pause();
              setTimeout(() => res.resume(), 1);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, sha: hash.digest('hex') }));
            res.on('error', reject);
          });
          req.on('error', reject);
        });
      const busy = async () => {
        for (let i = 0; i < 20; i++) expect((await curl(['-H', 'Host: wire.example.com', `${w.http}/chunked`])).body).toContain('line 49\n');
      };
      const [a, b] = await Promise.all([slow(), slow(), busy()]);
      expect([a, b]).toEqual([
        { status: 200, sha: sha(HUGE) },
        { status: 200, sha: sha(HUGE) },
      ]);
    });

    it('HEAD: the headers, no body', async () => {
      const r = await curl(['-I', '-H', 'Host: wire.example.com', `${w.http}/big`]);
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toEqual([String(BIG.length)]);
      expect(r.body).toBe('');
    });

    it('a chunked body written in 51 pieces', async () => {
      const r = await curl(['-H', 'Host: wire.example.com', `${w.http}/chunked`]);
      expect(r.body).toBe(Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join('') + 'end\n');
    });

    it('a body delimited by the pod closing the connection', async () => {
      const r = await curl(['-H', 'Host: raw.example.com', `${w.http}/`]);
      expect(r.status).toBe(200);
      expect(r.body).toBe('until the connection closes\n');
    });

    it('204: no body', async () => {
      expect((await curl(['-H', 'Host: wire.example.com', `${w.http}/nothing`])).status).toBe(204);
    });
  });

  // nginx 1.22.1 answers each of these 400 and closes the connection (checked with raw sockets and curl).
  describe("requests nginx refuses: 400, nothing reaches the pod, the connection ends", () => {
    it('two Host lines (raw socket: curl sends only one)', async () => {
      const before = podRequests;
      const r = await exchange(w, 'GET /echo HTTP/1.1\r\nHost: wire.example.com\r\nHost: raw.example.com\r\n\r\n');
      expect(r.statuses).toEqual([400]);
      expect(r.text).toMatch(/\r\nConnection: close\r\n/i);
      expect(podRequests).toBe(before);
    });

    it('Transfer-Encoding: chunked in an HTTP/1.0 request (curl -0)', async () => {
      const before = podRequests;
      const r = await curl(['-0', '-H', 'Host: wire.example.com', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'hello', `${w.http}/echo`]);
      expect(r.status).toBe(400);
      expect(r.headers['connection']).toEqual(['close']);
      expect(podRequests).toBe(before);
    });

    it('pipelined behind a good request: that one is proxied and answered, then the 400; what follows is never read', async () => {
      const before = podRequests;
      const good = 'GET /echo HTTP/1.1\r\nHost: wire.example.com\r\n\r\n';
      const r = await exchange(w, good + 'POST /echo HTTP/1.0\r\nHost: wire.example.com\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' + good);
      expect(r.statuses, r.text).toEqual([200, 400]);
      expect(podRequests).toBe(before + 1);
    });

    it('garbage pipelined behind a good request: that one is answered first, then the 400', async () => {
      const before = podRequests;
      const r = await exchange(w, 'GET /echo HTTP/1.1\r\nHost: wire.example.com\r\n\r\nBOGUS\x01\r\n\r\n');
      expect(r.statuses, r.text).toEqual([200, 400]);
      expect(podRequests).toBe(before + 1);
    });
  });

  describe('kept-alive connections to the pod', () => {
    it('sequential requests reuse one', async () => {
      const before = podConnections;
      for (let i = 0; i < 5; i++) expect((await curl(['-H', 'Host: wire.example.com', `${w.http}/nothing`])).status).toBe(204);
      expect(podConnections - before).toBeLessThanOrEqual(1);
    });

    it('one the pod closed while idle is not used again', async () => {
      for (let i = 0; i < 3; i++) {
        expect((await curl(['-H', 'Host: wire.example.com', `${w.http}/nothing`])).status).toBe(204);
        // The pod hangs up on the idle connection, as its keep-alive timeout does (Node's comes
        // a second after keepAliveTimeout); the ingress reads the FIN in the poll phase after the close.
        const s = lastPodSocket!;
        s.destroy();
        if (!s.closed) await new Promise((r) => s.once('close', r));
        for (let t = 0; t < 2; t++) await new Promise((r) => setImmediate(r));
      }
    });

    it('a request the pod dropped on a reused connection is sent again on a new one (one pod, no second try)', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await curl(['-H', 'Host: oneshot.example.com', `${w.http}/`]);
        expect([r.status, r.body]).toEqual([200, 'ok\n']);
      }
    });
  });
});
