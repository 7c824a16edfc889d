/**
 * ingress/http1-server.ts end to end: a plain net.Server (and a tls.Server, whose sockets take
 * the non-consume path) with serveHttp1 and small handlers, driven by raw client sockets that
 * write exact bytes and read raw responses, and by curl. Keep-alive, pipelining, request and
 * response bodies and their framing, HEAD / 204 / 304, Expect, Host, garbage, timeouts, the
 * requests-per-connection limit, clients going away, header validation, Upgrade.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp1, type Http1Options } from '../../../ingress/http1-server.js';
import type { Http1Request } from '../../../ingress/http1-request.js';
import type { Http1Response } from '../../../ingress/http1-response.js';
import { selfSignedCertificateSync, type PemPair } from '../../../ingress/self-signed-certificate.js';
import { fakeClock } from '../../support/fake-clock.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-http1-'));

/** Polls until `f` returns something other than undefined. */
async function until<T>(f: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------
// A raw client: exact bytes out, responses parsed from the bytes in.

interface RawResponse {
  statusLine: string;
  status: number;
  head: string;
  headers: Record<string, string[]>;
  body: Buffer;
  chunked: boolean;
}

function header(r: RawResponse, name: string): string | undefined {
  return r.headers[name]?.join(', ');
}

/** One response from the front of `buf`, or undefined when not all of it is there yet. */
function parseResponse(buf: Buffer, ended: boolean, method: string): { res: RawResponse; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const statusLine = lines[0]!;
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string[]> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    (headers[l.slice(0, i).trim().toLowerCase()] ??= []).push(l.slice(i + 1).trim());
  }
  let p = end + 4;
  const res: RawResponse = { statusLine, status, head, headers, body: Buffer.alloc(0), chunked: false };
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return { res, used: p };
  if (/chunked/i.test(header(res, 'transfer-encoding') ?? '')) {
    res.chunked = true;
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', p);
      if (eol < 0) return undefined;
      const size = parseInt(buf.subarray(p, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size line at ${p}: ${JSON.stringify(buf.subarray(p, eol + 2).toString('latin1'))}`);
      if (size === 0) {
        if (buf.length < eol + 4) return undefined;
        if (buf.subarray(eol + 2, eol + 4).toString('latin1') !== '\r\n') throw new Error('trailers not expected');
        res.body = Buffer.concat(parts);
        return { res, used: eol + 4 };
      }
      if (buf.length < eol + 2 + size + 2) return undefined;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      if (buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') throw new Error('chunk not followed by CRLF');
      p = eol + 4 + size;
    }
  }
  const cl = header(res, 'content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (buf.length < p + n) return undefined;
    res.body = buf.subarray(p, p + n);
    return { res, used: p + n };
  }
  if (!ended) return undefined;
  res.body = buf.subarray(p);
  return { res, used: buf.length };
}

const clients = new Set<net.Socket>();

class Raw {
  buf = Buffer.alloc(0);
  ended = false;
  closed = false;

  constructor(readonly sock: net.Socket) {
    clients.add(sock);
    sock.on('data', (d: Buffer) => (this.buf = Buffer.concat([this.buf, d])));
    sock.on('end', () => (this.ended = true));
    sock.on('close', () => (this.closed = true));
    sock.on('error', () => {});
  }

  static connect(port: number, secure = false): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const sock = secure ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) : net.connect(port, '127.0.0.1');
      const raw = new Raw(sock);
      sock.once('error', reject);
      sock.once(secure ? 'secureConnect' : 'connect', () => resolve(raw));
    });
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next whole response (removed from the buffer). */
  async response(method = 'GET', ms = 5000): Promise<RawResponse> {
    const r = await until(() => parseResponse(this.buf, this.ended, method), `a response (have ${JSON.stringify(this.buf.subarray(0, 200).toString('latin1'))})`, ms);
    this.buf = this.buf.subarray(r.used);
    return r.res;
  }

  async waitClosed(ms = 5000): Promise<void> {
    await until(() => (this.closed ? true : undefined), 'the server to close the connection', ms);
  }

  text(): string {
    return this.buf.toString('latin1');
  }
}

const get = (url: string, extra = '') => `GET ${url} HTTP/1.1\r\nHost: test.local\r\n${extra}\r\n`;

// ---------------------------------------------------------------------------------------------
// Servers.

interface Served {
  port: number;
  errors: NodeJS.ErrnoException[];
  upgrades: Array<{ url: string; method: string; head: Buffer }>;
  close(): Promise<void>;
}

const servers: Served[] = [];

type Handler = (req: Http1Request, res: Http1Response) => void;

/** `readData`: the server reads the socket's 'data' events (as for a socket whose handle the parser cannot consume). */
/** Echo handlers of /late upgrades, waiting for the test to let them read. */
const lateEchoes: Array<() => void> = [];

async function serve(handler: Handler, options: Partial<Http1Options> = {}, cert?: PemPair, readData = false): Promise<Served> {
  const server: net.Server = cert ? tls.createServer({ cert: cert.cert, key: cert.key }) : net.createServer();
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  server.on('tlsClientError', () => {});
  if (readData) server.on('connection', (s: net.Socket) => ((s as unknown as { _handle: { _consumed: boolean } })._handle._consumed = true));
  const errors: NodeJS.ErrnoException[] = [];
  const upgrades: Served['upgrades'] = [];
  const lean = serveHttp1(server, {
    onRequest: handler,
    onUpgrade: (req, socket, head) => {
      upgrades.push({ url: req.url, method: req.method, head: Buffer.from(head) });
      socket.on('error', () => socket.destroy());
      const echo = () => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
        if (head.length) socket.write(head);
        socket.on('data', (d: Buffer) => socket.write(d));
      };
      // /late: the handler takes the socket's bytes only when the test says (as the proxy does once the pod answered).
      if (req.url === '/late') lateEchoes.push(echo);
      else echo();
    },
    onClientError: (err, socket) => {
      errors.push(err);
      // As ingress/server.ts does: 408 on a timeout, 400 otherwise, and the connection ends.
      if (!socket.writable) socket.destroy();
      else socket.end(`HTTP/1.1 ${err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    },
    keepAliveTimeoutMs: 60_000,
    maxRequestsPerSocket: 1000,
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served: Served = {
    port: (server.address() as net.AddressInfo).port,
    errors,
    upgrades,
    close: async () => {
      lean.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(served);
  return served;
}

/** What the handlers saw, for the tests to assert on. */
const seen = {
  /** Times a handler's write returned false and it waited for 'drain': back-pressure reached it. */
  drainWaits: 0,
  order: [] as string[],
  ports: [] as number[],
  closes: new Map<string, { destroyed: boolean; writableFinished: boolean }>(),
};

function readAll(req: Http1Request, done: (body: Buffer) => void): void {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(Buffer.from(c)));
  req.on('end', () => done(Buffer.concat(parts)));
}

const json = (res: Http1Response, v: unknown) => res.writeHead(200, ['Content-Type', 'application/json']).end(Buffer.from(JSON.stringify(v)));

/** The handlers, by path. */
const handler: Handler = (req, res) => {
  const url = new URL(req.url, 'http://x');
  const q = (k: string) => url.searchParams.get(k);
  seen.ports.push(req.socket.remotePort ?? 0);
  const tag = q('tag');
  if (tag) res.once('close', () => seen.closes.set(tag, { destroyed: res.destroyed, writableFinished: res.writableFinished }));
  switch (url.pathname) {
    case '/hello':
      res.writeHead(200, ['Content-Type', 'text/plain']).end(Buffer.from(`hello ${req.method} ${req.httpVersion}`));
      return;
    case '/delay': {
      const id = q('id')!;
      seen.order.push(`start ${id}`);
      setTimeout(() => {
        seen.order.push(`end ${id}`);
        res.writeHead(200, []).end(Buffer.from(`response ${id}`));
      }, Number(q('ms') ?? 0));
      return;
    }
    case '/echo': {
      // The 'data' listener comes late: the body must be held meanwhile, not lost.
      const respond = () => readAll(req, (body) => json(res, { length: body.length, sha: sha(body), text: body.length < 1000 ? body.toString('latin1') : '', headers: req.headers, method: req.method }));
      const late = Number(q('late') ?? 0);
      if (late) setTimeout(respond, late);
      else respond();
      return;
    }
    case '/upload': {
      // Pauses for a moment every megabyte.
      const h = createHash('sha256');
      let length = 0;
      let nextPause = 1 << 20;
      let pauses = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
        if (length >= nextPause) {
          nextPause += 1 << 20;
          pauses++;
          req.pause();
          setTimeout(() => req.resume(), 5);
        }
      });
      req.on('end', () => json(res, { length, sha: h.digest('hex'), pauses }));
      return;
    }
    case '/stream': {
      res.writeHead(200, ['Content-Type', 'text/plain']);
      res.write(Buffer.from('first-'));
      setTimeout(() => {
        res.write(Buffer.from('second-'));
        setTimeout(() => res.end(Buffer.from('last')), 20);
      }, 20);
      return;
    }
    case '/big-stream': {
      // 8 MiB in 1 MiB pieces, waiting for 'drain' when told to.
      const piece = Buffer.alloc(1 << 20, 'abcdefgh');
      let sent = 0;
      res.writeHead(200, ['Content-Type', 'application/octet-stream']);
      const pump = () => {
        while (sent < 8) {
          sent++;
          if (sent === 8) {
            res.end(piece);
            return;
          }
          if (!res.write(piece)) {
            seen.drainWaits++;
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
      return;
    }
    case '/body-anyway':
      res.writeHead(Number(q('status') ?? 200), ['Content-Type', 'text/plain']).end(Buffer.from('this body must not be sent'));
      return;
    case '/bad-headers': {
      const codes: string[] = [];
      const attempt = (headers: string[]) => {
        try {
          res.writeHead(200, headers);
          codes.push('accepted');
        } catch (err) {
          codes.push(String((err as NodeJS.ErrnoException).code));
        }
      };
      attempt(['X-Bad', 'a\nb']);
      attempt(['X-Bad', 'a\x01b']);
      attempt(['X-Bad', 'a\r\nInjected: yes']);
      attempt(['Bad Name', 'v']);
      attempt(['Bad:Name', 'v']);
      attempt(['', 'v']);
      json(res, { codes, headersSent: res.headersSent });
      return;
    }
    case '/hold':
      // Half a response, then nothing: the client goes away.
      res.writeHead(200, ['Content-Length', '1000']);
      res.write(Buffer.alloc(10, 'x'));
      return;
    case '/flood': {
      // Far more than the socket takes while the client does not read.
      const piece = Buffer.alloc(1 << 20, 'f');
      res.writeHead(200, []);
      const pump = () => {
        while (!res.destroyed) {
          if (res.write(piece)) continue;
          seen.drainWaits++;
          return void res.once('drain', pump);
        }
      };
      pump();
      return;
    }
    default:
      res.writeHead(404, []).end(Buffer.from('not found'));
  }
};

let main: Served;
/** The same handlers on sockets the parser cannot consume (it reads their 'data' events). */
let dataRead: Served;
let cert: PemPair;

beforeAll(async () => {
  main = await serve(handler);
  dataRead = await serve(handler, {}, undefined, true);
  cert = selfSignedCertificateSync({ commonName: 'test.local', dnsNames: ['test.local'] });
});

afterEach(() => {
  for (const c of clients) c.destroy();
  clients.clear();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(tmp, { recursive: true, force: true });
});

function curl(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'latin1', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`curl ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------


/** /late: the upgrade handler reads only once released; what the client sent meanwhile must reach it. */
async function lateUpgradeKeepsEarlyBytes(port: number, secure = false): Promise<void> {
  const c = await Raw.connect(port, secure);
  c.write('GET /late HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  await until(() => (lateEchoes.length > 0 ? true : undefined), 'the upgrade handed to its handler');
  await new Promise((r) => c.sock.write(Buffer.from('SENT-EARLY', 'latin1'), r));
  // Two check phases: a poll phase has run, so the server has taken the bytes if it reads at all.
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  lateEchoes.shift()!();
  expect((await c.response()).status).toBe(101);
  c.write('|AFTER');
  await until(() => (c.text() === 'SENT-EARLY|AFTER' ? true : undefined), `the echo (have ${JSON.stringify(c.text())})`);
}
describe('keep-alive and pipelining', () => {
  it('answers two requests on one connection: Connection: keep-alive, Date, Content-Length from end(body)', async () => {
    const c = await Raw.connect(main.port);
    for (const n of [1, 2]) {
      c.write(get('/hello'));
      const r = await c.response();
      expect(r.statusLine).toBe('HTTP/1.1 200 OK');
      expect(r.body.toString()).toBe('hello GET 1.1');
      expect(header(r, 'content-length')).toBe(String('hello GET 1.1'.length));
      expect(header(r, 'connection')).toBe('keep-alive');
      expect(Number.isNaN(Date.parse(header(r, 'date') ?? ''))).toBe(false);
      expect(header(r, 'transfer-encoding')).toBeUndefined();
      expect(c.closed, `after response ${n}`).toBe(false);
    }
  });

  it('curl reuses the connection for a second URL', async () => {
    const before = seen.ports.length;
    const url = `http://127.0.0.1:${main.port}/hello`;
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code}:%{num_connects} ', url, '-o', '/dev/null', url]);
    expect(r.stdout.trim()).toBe('200:1 200:0');
    const ports = seen.ports.slice(before);
    expect(ports).toHaveLength(2);
    expect(ports[0]).toBe(ports[1]);
  });

  it('answers three pipelined requests in order, one at a time, when the first is slow', async () => {
    seen.order.length = 0;
    const c = await Raw.connect(main.port);
    c.write(get('/delay?id=1&ms=150') + get('/delay?id=2') + get('/delay?id=3'));
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push((await c.response()).body.toString());
    expect(bodies).toEqual(['response 1', 'response 2', 'response 3']);
    expect(c.buf.length).toBe(0);
    // The second request reaches the handler only once the first is answered.
    expect(seen.order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('a request split over many packets is parsed as one', async () => {
    const c = await Raw.connect(main.port);
    const bytes = get('/hello', 'X-Long: ' + 'y'.repeat(3000) + '\r\n');
    for (let i = 0; i < bytes.length; i += 500) {
      c.write(bytes.slice(i, i + 500));
      await sleep(5);
    }
    expect((await c.response()).body.toString()).toBe('hello GET 1.1');
  });
});

describe('request bodies', () => {
  it('a Content-Length body reaches a handler that starts reading late, byte for byte', async () => {
    const c = await Raw.connect(main.port);
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    c.write(`POST /echo?late=100 HTTP/1.1\r\nHost: test.local\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.write(body);
    const r = await c.response();
    const e = JSON.parse(r.body.toString()) as { length: number; sha: string; method: string };
    expect(e).toMatchObject({ length: body.length, sha: sha(body), method: 'POST' });
    // The connection is still good for the next request.
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
  });

  it('a chunked body, written in pieces, reaches a late reader byte for byte', async () => {
    const c = await Raw.connect(main.port);
    c.write('POST /echo?late=100 HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n');
    const pieces = ['hello ', 'chunked ', 'world', '\r\n\0binary'];
    for (const p of pieces) {
      c.write(`${Buffer.byteLength(p, 'latin1').toString(16)}\r\n${p}\r\n`);
      await sleep(10);
    }
    c.write('0\r\n\r\n');
    const e = JSON.parse((await c.response()).body.toString()) as { text: string; headers: Record<string, string> };
    expect(e.text).toBe(pieces.join(''));
    expect(e.headers['transfer-encoding']).toBe('chunked');
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
  });

  it('an 8 MiB upload to a handler that pauses and resumes arrives intact', async () => {
    const big = Buffer.alloc(8 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i * 2654435761 >>> 0, i);
    const c = await Raw.connect(main.port);
    c.write(`PUT /upload HTTP/1.1\r\nHost: test.local\r\nContent-Length: ${big.length}\r\n\r\n`);
    c.write(big);
    const e = JSON.parse((await c.response('PUT', 20_000)).body.toString()) as { length: number; sha: string; pauses: number };
    expect(e.length).toBe(big.length);
    expect(e.sha).toBe(sha(big));
    expect(e.pauses).toBe(8);
  });

  it('curl: a 2 MiB upload with Expect: 100-continue', async () => {
    const file = path.join(tmp, 'upload.bin');
    const body = Buffer.alloc(2 << 20, 'curl-upload-');
    writeFileSync(file, body);
    const r = await curl(['-v', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `http://127.0.0.1:${main.port}/echo`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ length: body.length, sha: sha(body) });
    expect(r.stderr).toMatch(/HTTP\/1\.1 100 Continue/);
  });
});

describe('response framing', () => {
  it('a streamed response without a length is chunked for an HTTP/1.1 client', async () => {
    const c = await Raw.connect(main.port);
    c.write(get('/stream'));
    const r = await c.response();
    expect(r.chunked).toBe(true);
    expect(header(r, 'content-length')).toBeUndefined();
    expect(header(r, 'connection')).toBe('keep-alive');
    expect(r.body.toString()).toBe('first-second-last');
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
  });

  it('a streamed response to an HTTP/1.0 client is not chunked and ends with the connection', async () => {
    const c = await Raw.connect(main.port);
    c.write('GET /stream HTTP/1.0\r\nHost: test.local\r\nConnection: keep-alive\r\n\r\n');
    await c.waitClosed();
    const r = await c.response();
    expect(r.chunked).toBe(false);
    expect(header(r, 'transfer-encoding')).toBeUndefined();
    expect(header(r, 'connection')).toBe('close');
    expect(r.body.toString()).toBe('first-second-last');
  });

  it('curl --http1.0 reads a streamed response to the end', async () => {
    const r = await curl(['--http1.0', `http://127.0.0.1:${main.port}/stream`]);
    expect(r.stdout).toBe('first-second-last');
  });

  it('an 8 MiB response written with back-pressure reaches a slow reader intact, and the connection serves the next request', async () => {
    const c = await Raw.connect(main.port);
    c.sock.pause();
    const waits = seen.drainWaits;
    c.write(get('/big-stream'));
    await until(() => (seen.drainWaits > waits ? true : undefined), 'the handler to wait for drain');
    c.sock.resume();
    const r = await c.response('GET', 20_000);
    expect(r.chunked).toBe(true);
    expect(r.body.length).toBe(8 << 20);
    expect(r.body.equals(Buffer.alloc(8 << 20, 'abcdefgh'))).toBe(true);
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
  });

  it('HEAD gets the head only, even when the handler ends with a body', async () => {
    const c = await Raw.connect(main.port);
    // The GET behind it shows there were no body bytes between the two heads.
    c.write(`HEAD /body-anyway HTTP/1.1\r\nHost: test.local\r\n\r\n` + get('/hello'));
    await until(() => (c.text().includes('hello GET 1.1') ? true : undefined), 'both responses');
    expect(c.text()).not.toContain('must not be sent');
    const head = await c.response('HEAD');
    expect(head.status).toBe(200);
    expect(header(head, 'transfer-encoding')).toBeUndefined();
    const next = await c.response();
    expect(next.body.toString()).toBe('hello GET 1.1');
    expect(c.buf.length).toBe(0);
  });

  it.each([204, 304])('%i has no body, even when the handler ends with one', async (status) => {
    const c = await Raw.connect(main.port);
    c.write(get(`/body-anyway?status=${status}`) + get('/hello'));
    await until(() => (c.text().includes('hello GET 1.1') ? true : undefined), 'both responses');
    expect(c.text()).not.toContain('must not be sent');
    const r = await c.response();
    expect(r.status).toBe(status);
    expect(header(r, 'transfer-encoding')).toBeUndefined();
    expect(header(r, 'content-length')).toBeUndefined();
    expect((await c.response()).body.toString()).toBe('hello GET 1.1');
  });
});

describe('Expect, Host and invalid requests', () => {
  it('Expect: 100-continue gets 100 Continue before the body is sent, then the final response', async () => {
    const c = await Raw.connect(main.port);
    c.write('POST /echo HTTP/1.1\r\nHost: test.local\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    const interim = await c.response();
    expect(interim.statusLine).toBe('HTTP/1.1 100 Continue');
    c.write('hello world');
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ text: 'hello world' });
  });

  it('another expectation gets 417 and never reaches the handler', async () => {
    const before = seen.ports.length;
    const c = await Raw.connect(main.port);
    c.write(get('/hello', 'Expect: something-else\r\n'));
    const r = await c.response();
    expect(r.status).toBe(417);
    expect(seen.ports.length).toBe(before);
  });

  it('HTTP/1.1 without Host is a client error (KNET_MISSING_HOST), answered 400', async () => {
    const before = main.errors.length;
    const c = await Raw.connect(main.port);
    c.write('GET /hello HTTP/1.1\r\n\r\n');
    const r = await c.response();
    expect(r.status).toBe(400);
    await c.waitClosed();
    expect(main.errors.slice(before).map((e) => e.code)).toEqual(['KNET_MISSING_HOST']);
  });

  // nginx 1.22.1, measured with raw sockets: each of these is a 400 with Connection: close
  // ("client sent duplicate host header", "client sent HTTP/1.0 request with "Transfer-Encoding" header").
  it.each([
    ['two Host lines', 'GET /hello HTTP/1.1\r\nHost: test.local\r\nHost: other.local\r\n\r\n', 'KNET_DUPLICATE_HOST'],
    ['two Host lines with the same value, any case', 'GET /hello HTTP/1.1\r\nHost: test.local\r\nhOST: test.local\r\n\r\n', 'KNET_DUPLICATE_HOST'],
    ['a second, empty Host line', 'GET /hello HTTP/1.1\r\nHost: test.local\r\nHost: \r\n\r\n', 'KNET_DUPLICATE_HOST'],
    ['two Host lines in HTTP/1.0', 'GET /hello HTTP/1.0\r\nHost: test.local\r\nHost: test.local\r\n\r\n', 'KNET_DUPLICATE_HOST'],
    ['HTTP/1.0 with Transfer-Encoding: chunked', 'POST /echo HTTP/1.0\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['HTTP/1.0 keep-alive with Transfer-Encoding: gzip, chunked', 'POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['an Upgrade with two Host lines', 'GET /ws HTTP/1.1\r\nHost: test.local\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', 'KNET_DUPLICATE_HOST'],
  ])('%s: 400 as nginx, the handler never sees it, the connection ends', async (_name, bytes, code) => {
    for (const s of [main, dataRead]) {
      const before = s.errors.length;
      const handled = seen.ports.length;
      const upgrades = s.upgrades.length;
      const c = await Raw.connect(s.port);
      c.write(bytes);
      expect((await c.response()).status).toBe(400);
      await c.waitClosed();
      expect(s.errors.slice(before).map((e) => e.code)).toEqual([code]);
      expect(seen.ports.length).toBe(handled);
      expect(s.upgrades.length).toBe(upgrades);
    }
  });

  it.each([
    ['two Host lines', 'GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'KNET_DUPLICATE_HOST'],
    ['HTTP/1.0 chunked', 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['HTTP/1.1 without Host', 'GET /hello HTTP/1.1\r\n\r\n', 'KNET_MISSING_HOST'],
  ])('%s pipelined behind a pending request: that one is answered first, then the 400, and nothing behind it is read (as nginx)', async (_name, bad, code) => {
    for (const s of [main, dataRead]) {
      const before = s.errors.length;
      const handled = seen.ports.length;
      const c = await Raw.connect(s.port);
      c.write(get('/delay?id=p&ms=50') + bad + get('/hello'));
      const first = await c.response();
      expect([first.status, first.body.toString()]).toEqual([200, 'response p']);
      const second = await c.response();
      expect(second.status).toBe(400);
      expect(header(second, 'connection')).toBe('close');
      await c.waitClosed();
      expect(c.text()).toBe('');
      expect(s.errors.slice(before).map((e) => e.code)).toEqual([code]);
      expect(seen.ports.length).toBe(handled + 1);
    }
  });

  it('HTTP/1.0 without Host is served', async () => {
    const c = await Raw.connect(main.port);
    c.write('GET /hello HTTP/1.0\r\n\r\n');
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET 1.0');
    expect(header(r, 'connection')).toBe('close');
    await c.waitClosed();
  });

  it.each([
    ['binary garbage', '\x00\x01GARBAGE\r\n\r\n', false],
    ['an invalid header line', 'GET / HTTP/1.1\r\nHost: test.local\r\nBad Header: x\r\n\r\n', false],
    ['Content-Length with chunked', 'POST /echo HTTP/1.1\r\nHost: test.local\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', false],
    ['two different Content-Lengths', 'POST /echo HTTP/1.1\r\nHost: test.local\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', false],
    // The head is good (the handler has it) before the body turns bad.
    ['a bad chunk size', 'POST /echo HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', true],
  ])('%s is a client error, answered 400; the server keeps serving', async (_name, bytes, reachesHandler) => {
    const before = main.errors.length;
    const handled = seen.ports.length;
    const c = await Raw.connect(main.port);
    c.write(bytes);
    const r = await c.response();
    expect(r.status).toBe(400);
    await c.waitClosed();
    expect(main.errors.length).toBe(before + 1);
    expect(main.errors[before]!.code).toMatch(/^HPE_/);
    expect(seen.ports.length).toBe(handled + (reachesHandler ? 1 : 0));
    const d = await Raw.connect(main.port);
    d.write(get('/hello'));
    expect((await d.response()).status).toBe(200);
  });

  it('garbage pipelined behind pending requests: they are answered first, in order, then the 400 (as nginx)', async () => {
    const before = main.errors.length;
    const c = await Raw.connect(main.port);
    c.write(get('/delay?id=g&ms=100&tag=g') + get('/hello') + 'BOGUS\x01\r\n\r\n');
    const first = await c.response();
    expect([first.status, first.body.toString()]).toEqual([200, 'response g']);
    expect((await c.response()).status).toBe(200);
    expect((await c.response()).status).toBe(400);
    await c.waitClosed();
    expect(main.errors.slice(before).map((e) => e.code)).toEqual(['HPE_INVALID_METHOD']);
    const e = await until(() => seen.closes.get('g'), "the first response's close");
    expect(e.writableFinished).toBe(true);
    const d = await Raw.connect(main.port);
    d.write(get('/hello'));
    expect((await d.response()).status).toBe(200);
  });
});

describe('timeouts and limits', () => {
  it('a head that stalls past headersTimeoutMs gets ERR_HTTP_REQUEST_TIMEOUT (408)', async () => {
    const s = await serve(handler, { headersTimeoutMs: 1500 });
    const c = await Raw.connect(s.port);
    c.write('GET /hello HTTP/1.1\r\nHost: test.local\r\nX-Partial: ');
    const r = await c.response('GET', 8000);
    expect(r.status).toBe(408);
    expect(s.errors.map((e) => e.code)).toEqual(['ERR_HTTP_REQUEST_TIMEOUT']);
    await c.waitClosed();
  });

  it('an idle kept-alive connection is closed after keepAliveTimeoutMs', async () => {
    const clock = fakeClock();
    const s = await serve(handler, { keepAliveTimeoutMs: 1000, clock });
    const c = await Raw.connect(s.port);
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
    clock.advance(1000);
    await c.waitClosed(8000);
    expect(c.buf.length).toBe(0);
    expect(s.errors).toEqual([]);
  });

  it('the keep-alive timeout ends at the first byte of the next request: a slow head is still answered', async () => {
    const clock = fakeClock();
    const s = await serve(handler, { keepAliveTimeoutMs: 1000, headersTimeoutMs: 20_000, clock });
    const c = await Raw.connect(s.port);
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
    c.write('GET /hello HTTP/1.1\r\nHost: test.local\r\n');
    // The bytes are in the server socket's receive queue once written (loopback); the parser
    // takes them in the next poll phase, which has run two check phases later.
    await new Promise((r) => c.sock.write('', r));
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    clock.advance(3000); // three sweeps past the keep-alive timeout
    c.write('\r\n');
    expect((await c.response()).status).toBe(200);
    expect(s.errors).toEqual([]);
  });

  it('maxRequestsPerSocket: 2 → the second response says Connection: close and the connection ends', async () => {
    const s = await serve(handler, { maxRequestsPerSocket: 2 });
    const c = await Raw.connect(s.port);
    c.write(get('/hello'));
    const first = await c.response();
    expect(header(first, 'connection')).toBe('keep-alive');
    c.write(get('/hello'));
    const second = await c.response();
    expect(second.status).toBe(200);
    expect(header(second, 'connection')).toBe('close');
    await c.waitClosed();
    expect(c.ended).toBe(true);
  });
});

describe('clients going away', () => {
  it('a finished response emits close with writableFinished true', async () => {
    const c = await Raw.connect(main.port);
    c.write(get('/hello?tag=done'));
    await c.response();
    const e = await until(() => seen.closes.get('done'), "the response's close");
    expect(e).toEqual({ destroyed: true, writableFinished: true });
  });

  it('a client that goes away mid-response: close with destroyed true and writableFinished false; the server keeps serving', async () => {
    const c = await Raw.connect(main.port);
    c.write(get('/hold?tag=hold'));
    await until(() => (c.buf.includes('xxxxxxxxxx') ? true : undefined), 'the first body bytes');
    c.sock.destroy();
    const e = await until(() => seen.closes.get('hold'), "the response's close");
    expect(e).toEqual({ destroyed: true, writableFinished: false });
    const d = await Raw.connect(main.port);
    d.write(get('/hello'));
    expect((await d.response()).status).toBe(200);
  });

  it('a client that stops reading and goes away during a back-pressured response: close, destroyed', async () => {
    const c = await Raw.connect(main.port);
    c.sock.pause();
    const waits = seen.drainWaits;
    c.write(get('/flood?tag=flood'));
    await until(() => (seen.drainWaits > waits ? true : undefined), 'the handler to wait for drain');
    c.sock.destroy();
    const e = await until(() => seen.closes.get('flood'), "the response's close");
    expect(e).toEqual({ destroyed: true, writableFinished: false });
  });

  it('a client that half-closes while its response is pending: the connection is dropped, the response closed unfinished', async () => {
    const c = await Raw.connect(main.port);
    c.write(get('/delay?id=h1&ms=200&tag=h1'));
    await until(() => (seen.order.includes('start h1') ? true : undefined), 'the request at its handler');
    c.sock.end();
    await c.waitClosed();
    expect(c.buf.length).toBe(0);
    const e = await until(() => seen.closes.get('h1'), 'close of h1');
    expect(e).toEqual({ destroyed: true, writableFinished: false });
  });
});

describe('header validation', () => {
  it('writeHead throws ERR_INVALID_CHAR on control characters in a value and ERR_INVALID_HTTP_TOKEN on a bad name, and sends nothing', async () => {
    const c = await Raw.connect(main.port);
    c.write(get('/bad-headers'));
    const r = await c.response();
    expect(r.status).toBe(200);
    expect(r.head).not.toMatch(/X-Bad|Injected|Bad Name/);
    expect(JSON.parse(r.body.toString())).toEqual({
      codes: ['ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_HTTP_TOKEN'],
      headersSent: false,
    });
  });
});

describe('Upgrade and CONNECT', () => {
  it('hands an Upgrade request to onUpgrade with the bytes after the head; the socket is the handler\'s', async () => {
    const c = await Raw.connect(main.port);
    c.write('GET /ws HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nEARLY-BYTES');
    const r = await c.response();
    expect(r.status).toBe(101);
    await until(() => (c.text() === 'EARLY-BYTES' ? true : undefined), 'the echoed head');
    c.write('MORE');
    await until(() => (c.text() === 'EARLY-BYTESMORE' ? true : undefined), 'the echo');
    const u = main.upgrades.find((x) => x.url === '/ws')!;
    expect(u.head.toString()).toBe('EARLY-BYTES');
  });

  it('bytes sent before the upgrade handler starts reading are not lost', () => lateUpgradeKeepsEarlyBytes(main.port));

  it('CONNECT goes to onUpgrade too', async () => {
    const before = main.upgrades.length;
    const c = await Raw.connect(main.port);
    c.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nTUNNEL');
    expect((await c.response()).status).toBe(101);
    await until(() => (c.text() === 'TUNNEL' ? true : undefined), 'the tunnel bytes');
    expect(main.upgrades.slice(before).map((u) => [u.method, u.url, u.head.toString()])).toEqual([['CONNECT', 'example.com:443', 'TUNNEL']]);
  });
});

// TLS sockets' bytes are consumed by the parser too (TLSWrap is a StreamBase), but writes go
// through the socket's Writable (tcp-fast-path.ts never writes to a TLSWrap directly).
describe('over TLS', () => {
  let secure: Served;
  beforeAll(async () => {
    secure = await serve(handler, {}, cert);
  });

  it('answers two requests on one connection', async () => {
    const c = await Raw.connect(secure.port, true);
    for (let i = 0; i < 2; i++) {
      c.write(get('/hello'));
      const r = await c.response();
      expect(r.body.toString()).toBe('hello GET 1.1');
      expect(header(r, 'connection')).toBe('keep-alive');
    }
  });

  it('pipelined requests in order', async () => {
    const c = await Raw.connect(secure.port, true);
    c.write(get('/delay?id=t1&ms=100') + get('/delay?id=t2') + get('/hello'));
    expect((await c.response()).body.toString()).toBe('response t1');
    expect((await c.response()).body.toString()).toBe('response t2');
    expect((await c.response()).body.toString()).toBe('hello GET 1.1');
  });

  it('a POST body (late reader) and a chunked 8 MiB upload with pauses arrive intact', async () => {
    const c = await Raw.connect(secure.port, true);
    c.write('POST /echo?late=100 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 11\r\n\r\nhello world');
    expect(JSON.parse((await c.response()).body.toString())).toMatchObject({ text: 'hello world' });
    const big = Buffer.alloc(8 << 20, 'tls-upload');
    c.write('POST /upload HTTP/1.1\r\nHost: test.local\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < big.length; i += 1 << 20) c.write(Buffer.concat([Buffer.from('100000\r\n'), big.subarray(i, i + (1 << 20)), Buffer.from('\r\n')]));
    c.write('0\r\n\r\n');
    expect(JSON.parse((await c.response('POST', 20_000)).body.toString())).toMatchObject({ length: big.length, sha: sha(big) });
  });

  it('a streamed response is chunked, then the connection serves the next request', async () => {
    const c = await Raw.connect(secure.port, true);
    c.write(get('/stream'));
    const r = await c.response();
    expect(r.chunked).toBe(true);
    expect(r.body.toString()).toBe('first-second-last');
    c.write(get('/big-stream'));
    const big = await c.response('GET', 20_000);
    expect(big.body.equals(Buffer.alloc(8 << 20, 'abcdefgh'))).toBe(true);
    c.write(get('/hello'));
    expect((await c.response()).status).toBe(200);
  });

  it('curl -k: two URLs on one connection, and a 2 MiB upload', async () => {
    const url = `https://127.0.0.1:${secure.port}/hello`;
    const r = await curl(['-k', '-o', '/dev/null', '-w', '%{http_code}:%{num_connects} ', url, '-o', '/dev/null', url]);
    expect(r.stdout.trim()).toBe('200:1 200:0');
    const file = path.join(tmp, 'tls-upload.bin');
    const body = Buffer.alloc(2 << 20, 'tls-curl-');
    writeFileSync(file, body);
    const up = await curl(['-k', '--data-binary', `@${file}`, `https://127.0.0.1:${secure.port}/echo`]);
    expect(JSON.parse(up.stdout)).toMatchObject({ length: body.length, sha: sha(body) });
  });

  it('Upgrade with bytes after the head, and bytes sent before the handler reads', async () => {
    const c = await Raw.connect(secure.port, true);
    c.write('GET /ws HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nEARLY');
    expect((await c.response()).status).toBe(101);
    await until(() => (c.text() === 'EARLY' ? true : undefined), 'the echoed head');
    await lateUpgradeKeepsEarlyBytes(secure.port, true);
  });
});

// A socket whose handle is already taken (or is not a StreamBase) is read through its 'data'
// events: the same behaviour through the other reading path.
describe("through the socket's 'data' events", () => {
  let plain: Served;
  beforeAll(async () => {
    plain = await serve(handler, {}, undefined, true);
  });

  it('keep-alive, and pipelined requests in order', async () => {
    const c = await Raw.connect(plain.port);
    c.write(get('/hello'));
    expect(header(await c.response(), 'connection')).toBe('keep-alive');
    c.write(get('/delay?id=d1&ms=100') + get('/delay?id=d2') + get('/hello'));
    expect((await c.response()).body.toString()).toBe('response d1');
    expect((await c.response()).body.toString()).toBe('response d2');
    expect((await c.response()).body.toString()).toBe('hello GET 1.1');
  });

  it('a late reader gets the whole body; an 8 MiB upload with pauses arrives intact; a streamed response is chunked', async () => {
    const c = await Raw.connect(plain.port);
    c.write('POST /echo?late=100 HTTP/1.1\r\nHost: test.local\r\nContent-Length: 11\r\n\r\nhello world');
    expect(JSON.parse((await c.response()).body.toString())).toMatchObject({ text: 'hello world' });
    const big = Buffer.alloc(8 << 20, 'data-path');
    c.write(`POST /upload HTTP/1.1\r\nHost: test.local\r\nContent-Length: ${big.length}\r\n\r\n`);
    c.write(big);
    expect(JSON.parse((await c.response('POST', 20_000)).body.toString())).toMatchObject({ length: big.length, sha: sha(big) });
    c.write(get('/stream'));
    const r = await c.response();
    expect(r.chunked).toBe(true);
    expect(r.body.toString()).toBe('first-second-last');
  });

  it('Upgrade: the head bytes, and bytes sent before the handler reads, are not lost', async () => {
    const c = await Raw.connect(plain.port);
    c.write('GET /ws HTTP/1.1\r\nHost: test.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nEARLY');
    expect((await c.response()).status).toBe(101);
    await until(() => (c.text() === 'EARLY' ? true : undefined), 'the echoed head');
    await lateUpgradeKeepsEarlyBytes(plain.port);
  });
});
