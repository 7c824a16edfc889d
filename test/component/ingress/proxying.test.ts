/**
 * Proxying robustness: WebSocket through the ingress, client aborts free their upstream
 * sockets, retries on connect failure, resets and timeouts answered with 502/504, garbage
 * on the wire answered with 400 — and the controller keeps serving through all of it.
 * Every test runs twice: on the lean server and on node:http (describeEachHttpServer).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsBackend, namedBackend, resettingBackend, silentBackend, statusBackend, streamingBackend, websocketEchoBackend, type Backend } from './backends.js';
import { selfSignedCertificateSync } from '../../../ingress/self-signed-certificate.js';
import { curl, curlMany, endpointSlice, NS, service, describeEachHttpServer, World } from './harness.js';

describeEachHttpServer((httpServer) => {
  const w = new World('127.52.0.4', httpServer);
  const backends: Backend[] = [];
  let stream: Backend;
  let ws: Backend;

  const ing = (name: string, path: string, svc: string, annotations: Record<string, string> = {}) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z', annotations },
    spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  });
  const ep = (name: string, ip: string, port = 8080) => ({ name, ip, port });

  /** Polls until `check` holds or the deadline passes; returns the last value (no timing asserted). */
  async function eventually<T>(read: () => T, check: (v: T) => boolean, ms = 5000): Promise<T> {
    const end = Date.now() + ms;
    let v = read();
    while (!check(v) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      v = read();
    }
    return v;
  }

  beforeAll(async () => {
    stream = await streamingBackend('127.52.4.1');
    ws = await websocketEchoBackend('127.52.4.2');
    const good = await namedBackend('good', '127.52.4.3');
    const reset = await resettingBackend('127.52.4.4');
    const silent = await silentBackend('127.52.4.5');
    const app = await statusBackend('app', '127.52.4.6');
    const errors = await statusBackend('errors', '127.52.4.7');
    const secure = await httpsBackend('secure', '127.52.4.8', selfSignedCertificateSync({ commonName: 'pod' }));
    backends.push(stream, ws, good, reset, silent, app, errors, secure);
    await w.start();
    w.apply(
      service('stream'), endpointSlice('stream', [ep('stream-1', '127.52.4.1')]),
      service('ws'), endpointSlice('ws', [ep('ws-1', '127.52.4.2')]),
      // One endpoint refuses connections (nothing listens on 127.52.4.99), one answers.
      service('flaky'), endpointSlice('flaky', [ep('dead-1', '127.52.4.99'), ep('good-1', '127.52.4.3')]),
      // One endpoint resets every request, one answers.
      service('resets'), endpointSlice('resets', [ep('reset-1', '127.52.4.4'), ep('good-1', '127.52.4.3')]),
      service('reset-only'), endpointSlice('reset-only', [ep('reset-1', '127.52.4.4')]),
      service('dead-only'), endpointSlice('dead-only', [ep('dead-1', '127.52.4.99')]),
      service('silent'), endpointSlice('silent', [ep('silent-1', '127.52.4.5')]),
      ing('stream', '/stream', 'stream'),
      ing('ws', '/ws', 'ws'),
      ing('flaky', '/flaky', 'flaky'),
      ing('resets', '/resets', 'resets'),
      ing('reset-only', '/reset-only', 'reset-only'),
      ing('dead-only', '/dead-only', 'dead-only'),
      ing('silent', '/silent', 'silent', { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '1' }),
      service('app'), endpointSlice('app', [ep('app-1', '127.52.4.6')]),
      service('errors'), endpointSlice('errors', [ep('errors-1', '127.52.4.7')]),
      service('secure', 443, 8443), endpointSlice('secure', [ep('secure-1', '127.52.4.8', 8443)]),
      ing('app', '/status', 'app', { 'nginx.ingress.kubernetes.io/custom-http-errors': '503,404', 'nginx.ingress.kubernetes.io/default-backend': 'errors' }),
      {
        ...ing('secure', '/secure', 'secure', { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' }),
        spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: '/secure', pathType: 'Prefix', backend: { service: { name: 'secure', port: { number: 443 } } } }] } }] },
      },
    );
    await w.settle();
  });
  afterAll(async () => {
    await w.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  describe('WebSocket', () => {
    it('echoes through the ingress, and closing frees both sides', async () => {
      const sock = new WebSocket(`ws://${w.controllerIp}:${w.ingress.ports.http}/ws/chat`);
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        sock.addEventListener('open', () => resolve());
        sock.addEventListener('error', () => reject(new Error('websocket error')));
      });
      const got = new Promise<void>((resolve) =>
        sock.addEventListener('message', (e) => {
          messages.push(String(e.data));
          if (messages.length === 3) resolve();
        }),
      );
      sock.send('hello');
      sock.send('through');
      sock.send('x'.repeat(1000));
      await got;
      expect(messages).toEqual(['hello', 'through', 'x'.repeat(1000)]);
      w.accessLog.length = 0;
      sock.close();
      expect(await eventually(() => ws.open(), (n) => n === 0)).toBe(0);
      // The tunnel is access-logged when it ends.
      const line = await eventually(() => w.accessLog.find((l) => l.includes('/ws/chat')), (l) => l !== undefined);
      expect(line).toMatch(/"GET \/ws\/chat HTTP\/1\.1" 101 .* \[default-ws-80\] \[\] 127\.52\.4\.2:8080 /);
    });

    it('a refused upgrade (no endpoints) is answered, not hung', async () => {
      const r = await curl(['-H', 'Connection: Upgrade', '-H', 'Upgrade: websocket', '-H', 'Sec-WebSocket-Version: 13', '-H', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', `${w.http}/dead-only`]);
      expect(r.status).toBe(502);
    });
  });

  describe('client aborts', () => {
    it('a client that aborts mid-stream leaves no open upstream socket', async () => {
      const aborted = Array.from({ length: 10 }, () =>
        new Promise<void>((resolve) => {
          const req = http.get({ host: w.controllerIp, port: w.ingress.ports.http, path: '/stream' }, (res) => {
            res.once('data', () => req.destroy());
          });
          req.on('error', () => {});
          req.on('close', () => resolve());
        }),
      );
      await Promise.all(aborted);
      expect(await eventually(() => stream.open(), (n) => n === 0)).toBe(0);
    });

    it('curl giving up mid-stream (--max-time) frees the upstream socket too', async () => {
      await new Promise<void>((resolve) => execFile('curl', ['-sS', '--max-time', '0.3', `${w.http}/stream`], () => resolve()));
      expect(await eventually(() => stream.open(), (n) => n === 0)).toBe(0);
    });
  });

  describe('upstream failures', () => {
    it('a connect failure moves to the next endpoint (every request succeeds)', async () => {
      const r = await curlMany(`${w.http}/flaky`, 20);
      expect(r.map((x) => x.status)).toEqual(Array(20).fill(200));
    });

    it('an idempotent request reset by one pod is retried on another', async () => {
      const r = await curlMany(`${w.http}/resets`, 20);
      expect(r.map((x) => x.status)).toEqual(Array(20).fill(200));
    });

    it('resets and refusals everywhere give 502; the controller keeps serving', async () => {
      expect((await curl([`${w.http}/reset-only`])).status).toBe(502);
      expect((await curl(['-X', 'POST', '--data', 'x=1', `${w.http}/reset-only`])).status).toBe(502);
      expect((await curl([`${w.http}/dead-only`])).status).toBe(502);
      expect((await curl([`${w.http}/flaky`])).status).toBe(200);
    });

    it('proxy-read-timeout elapsed → 504', async () => {
      const r = await curl([`${w.http}/silent`]);
      expect(r.status).toBe(504);
      expect(r.body).toContain('504 Gateway Time-out');
    });
  });

  describe('annotations that change the proxying', () => {
    it('custom-http-errors: a listed status from the pod is replaced by the default-backend Service\'s page, with X-Code', async () => {
      const r = await curl([`${w.http}/status/503`]);
      expect(r.body).toBe('errors saw GET / x-code=503 x-original-uri=/status/503');
      const ok = await curl([`${w.http}/status/200`]);
      expect(ok.body).toMatch(/^app saw GET \/status\/200/);
      const unlisted = await curl([`${w.http}/status/500`]);
      expect(unlisted.status).toBe(500);
      expect(unlisted.body).toMatch(/^app saw/);
    });

    it('backend-protocol HTTPS: the pod is reached over TLS', async () => {
      const r = await curl([`${w.http}/secure`]);
      expect(r.status).toBe(200);
      expect(r.body).toBe('secure over tls');
    });
  });

  describe('garbage on the wire', () => {
    const raw = (bytes: string | Buffer, port = w.ingress.ports.http!) =>
      new Promise<string>((resolve) => {
        const s = net.connect(port, w.controllerIp);
        let out = '';
        s.on('data', (d) => (out += d.toString('latin1')));
        s.on('error', () => resolve(out));
        s.on('close', () => resolve(out));
        s.write(bytes);
        setTimeout(() => s.destroy(), 2000);
      });

    it.each([
      ['not HTTP at all', 'GARBAGE GARBAGE GARBAGE\r\n\r\n'],
      ['bad header line', 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'],
      ['bad chunked body', 'POST /flaky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n'],
      ['binary', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])],
    ])('%s → 400 and the server survives', async (_n, bytes) => {
      const out = await raw(bytes);
      expect(out).toMatch(/^HTTP\/1\.1 400 /);
      expect((await curl([`${w.http}/flaky`])).status).toBe(200);
    });

    it('plain HTTP sent to the TLS port does not hurt', async () => {
      await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n', w.httpsPort);
      const r = await curl(['-k', `https://${w.controllerIp}:${w.httpsPort}/flaky`]);
      expect(r.status).toBe(200);
    });
  });
});
