/**
 * The ingress controller end to end: a real cluster (store, controllers, node agents, the
 * ingress on the first LoadBalancer pool IP), real agnhost pods, real curl and wrk.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';

const run = promisify(execFile);
let cluster: KnetCluster;
let ing: { host: string; httpPort: number; httpsPort: number };
let tmp: string;

/** curl; returns stdout even when curl exits non-zero (an HTTP error is not a curl error here). */
async function curl(...args: string[]): Promise<string> {
  try {
    return (await run('curl', ['-s', '--max-time', '10', ...args], { maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}
const base = () => `http://${ing.host}:${ing.httpPort}`;

const agnhostDeployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080", "--delay-shutdown=2"]
        readinessProbe: { httpGet: { path: /readyz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
`;

const ingress = (name: string, host: string, service: string, annotations: Record<string, string> = {}, extra = '') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  annotations: ${JSON.stringify(annotations)}
spec:
  ingressClassName: nginx
${extra}  rules:
  - host: ${host}
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: ${service}, port: { number: 80 } } } }
`;

const podNames = async (app: string) =>
  ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === app && !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-ingress-e2e-'));
  cluster = await startCluster({ components: { dns: false }, readyTimeoutMs: 60_000 });
  ing = cluster.ingressAddress();
  await cluster.apply([agnhostDeployment('apple', 3), agnhostDeployment('banana', 2)], { timeoutMs: 60_000 });
}, 120_000);
afterAll(async () => {
  await cluster?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('routing', () => {
  it('routes by host to two Deployments, and answers 404 from the default backend otherwise', async () => {
    await cluster.apply([ingress('apple', 'apple.example.com', 'apple'), ingress('banana', 'banana.example.com', 'banana')]);
    const apples = await podNames('apple');
    const bananas = await podNames('banana');
    for (let i = 0; i < 4; i++) {
      expect(apples).toContain(await curl('-H', 'Host: apple.example.com', `${base()}/hostname`));
      expect(bananas).toContain(await curl('-H', 'Host: banana.example.com', `${base()}/hostname`));
    }
    const notFound = await curl('-H', 'Host: cherry.example.com', '-w', '%{http_code}', '-o', '/dev/null', `${base()}/hostname`);
    expect(notFound).toBe('404');
    expect(await curl('-H', 'Host: cherry.example.com', `${base()}/`)).toContain('404 Not Found');
  });

  it('routes by path (regex paths with rewrite-target) to two Deployments', async () => {
    await cluster.apply(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  annotations:
    nginx.ingress.kubernetes.io/use-regex: "true"
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - { path: "/apple(/|$)(.*)", pathType: ImplementationSpecific, backend: { service: { name: apple, port: { name: http } } } }
      - { path: "/banana(/|$)(.*)", pathType: ImplementationSpecific, backend: { service: { name: banana, port: { number: 80 } } } }
`);
    const apples = await podNames('apple');
    const bananas = await podNames('banana');
    expect(apples).toContain(await curl('-H', 'Host: shop.example.com', `${base()}/apple/hostname`));
    expect(bananas).toContain(await curl('-H', 'Host: shop.example.com', `${base()}/banana/hostname`));
    expect(await curl('-H', 'Host: shop.example.com', '-w', '%{http_code}', '-o', '/dev/null', `${base()}/cherry/hostname`)).toBe('404');
  });

  it('an Ingress applied without a class with `knet apply` gets the default class nginx (DefaultIngressClass), shows it in `get -o yaml`, and is served', async () => {
    const knet = async (...args: string[]) => (await run(process.execPath, [cliEntry(), ...args, '--cluster', cluster.name, '--state-dir', path.dirname(cluster.stateDir)], { timeout: 60_000 })).stdout;
    const file = path.join(tmp, 'classless.yaml');
    writeFileSync(file, ingress('classless', 'classless.example.com', 'apple').replace('  ingressClassName: nginx\n', ''));
    expect(readFileSync(file, 'utf8')).not.toContain('ingressClassName');
    expect(await knet('apply', '-f', file)).toBe('ingress.networking.k8s.io/classless created\n');
    const yaml = await knet('get', 'ing', 'classless', '-o', 'yaml');
    expect(yaml, yaml).toMatch(/^ {2}ingressClassName: nginx$/m);
    expect(await knet('get', 'ing', 'classless')).toMatch(/^classless\s+nginx\s+classless\.example\.com\s/m);
    const apple = await podNames('apple');
    await cluster.waitFor(async () => apple.includes(await curl('-H', 'Host: classless.example.com', `${base()}/hostname`)), 'the classless Ingress to be served');
  });

  it('gives pods the ingress controller as their client, with the real client in X-Forwarded-For', async () => {
    const clientip = await curl('-H', 'Host: apple.example.com', `${base()}/clientip`);
    expect(clientip.split(':')[0]).toBe(`${cluster.config.podPrefix}.1.254`);
    const xff = await curl('-H', 'Host: apple.example.com', '-H', 'X-Forwarded-For: 6.6.6.6', `${base()}/header?key=X-Forwarded-For`);
    expect(xff).toMatch(/^127\.\d+\.\d+\.\d+$/);
  });
});

describe('TLS', () => {
  it('serves the certificate of a kubernetes.io/tls Secret by SNI, and redirects http to https', async () => {
    const crt = path.join(tmp, 'tls.crt');
    const key = path.join(tmp, 'tls.key');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=secure.example.com', '-addext', 'subjectAltName=DNS:secure.example.com', '-keyout', key, '-out', crt]);
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'secure-tls', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': readFileSync(crt).toString('base64'), 'tls.key': readFileSync(key).toString('base64') },
    } as never);
    await cluster.apply(ingress('secure', 'secure.example.com', 'apple', {}, '  tls: [{ hosts: [secure.example.com], secretName: secure-tls }]\n'));
    const resolve = `secure.example.com:${ing.httpsPort}:${ing.host}`;
    // --cacert with our own certificate: curl verifies the chain and the name, so the Secret's certificate was chosen.
    const body = await cluster.waitFor(async () => (await podNames('apple')).includes(await curl('--resolve', resolve, '--cacert', crt, `https://secure.example.com:${ing.httpsPort}/hostname`)), 'the TLS Secret to be served', 15_000);
    expect(body).toBe(true);
    // Another name on the same address gets the default (fake) certificate, which our CA does not sign.
    const other = await curl('--resolve', `other.example.com:${ing.httpsPort}:${ing.host}`, '--cacert', crt, '-w', '%{http_code}', '-o', '/dev/null', `https://other.example.com:${ing.httpsPort}/`);
    expect(other).toBe('000');
    const issuer = await curl('-k', '-v', '--resolve', `other.example.com:${ing.httpsPort}:${ing.host}`, `https://other.example.com:${ing.httpsPort}/`, '--stderr', '-');
    expect(issuer).toContain('Kubernetes Ingress Controller Fake Certificate');
    const redirect = await curl('-H', 'Host: secure.example.com', '-w', '%{http_code} %{redirect_url}', '-o', '/dev/null', `${base()}/x`);
    expect(redirect).toBe(`308 https://secure.example.com/x`);
  });
});

describe('annotations', () => {
  it('cookie affinity pins one pod across 20 requests and moves when that pod is deleted', async () => {
    await cluster.apply(ingress('sticky', 'sticky.example.com', 'apple', { 'nginx.ingress.kubernetes.io/affinity': 'cookie', 'nginx.ingress.kubernetes.io/session-cookie-name': 'route' }));
    const jar = path.join(tmp, 'jar');
    const sticky = async (n: number) => (await curl('-b', jar, '-c', jar, '-w', '\\n', '-H', 'Host: sticky.example.com', `${base()}/hostname?[1-${n}]`)).trim().split('\n');
    const first = await sticky(20);
    expect(first).toHaveLength(20);
    expect(new Set(first).size).toBe(1);
    expect(readFileSync(jar, 'utf8')).toMatch(/\troute\t/);
    const pinned = first[0]!;
    expect(await podNames('apple')).toContain(pinned);
    await cluster.delete('pod', pinned, 'default', { wait: true, timeoutMs: 30_000 });
    await cluster.waitForEndpoints('apple', 3);
    const after = await sticky(20);
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(pinned);
    expect(await podNames('apple')).toContain(after[0]);
  });

  it('canary weight 20 sends 20% ± 5.5% of 2000 requests to the canary', async () => {
    // The canary gets a Service of its own: in ingress-nginx (and so in knet) an upstream that
    // another Ingress already uses as a primary is not a canary upstream, and the canary
    // Ingress's path is then served as a plain location (the sort order decides which wins).
    await cluster.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'banana-canary', namespace: 'default' }, spec: { selector: { app: 'banana' }, ports: [{ port: 80, targetPort: 8080 }] } } as never,
      ingress('main', 'canary.example.com', 'apple'),
      ingress('main-canary', 'canary.example.com', 'banana-canary', { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '20' }),
    ]);
    const bananas = new Set(await podNames('banana'));
    const apples = new Set(await podNames('apple'));
    // The controller draws at random, as ingress-nginx does: 2000 requests and a band of six
    // standard deviations (sd 0.9 %) keep a correct controller from failing this but once in 10^9.
    const names = (await curl('-w', '\\n', '-H', 'Host: canary.example.com', `${base()}/hostname?[1-2000]`)).trim().split('\n');
    expect(names).toHaveLength(2000);
    expect(names.every((n) => bananas.has(n) || apples.has(n))).toBe(true);
    const share = names.filter((n) => bananas.has(n)).length / 2000;
    expect(share).toBeGreaterThanOrEqual(0.145);
    expect(share).toBeLessThanOrEqual(0.255);
  });
});

/** A WebSocket echo server (RFC 6455, single small frames) and an endless /stream, run as a pod's process container. */
const wsEcho = `
const http = require('node:http'), crypto = require('node:crypto');
let active = 0, total = 0;
const s = http.createServer((q, r) => {
  if (q.url === '/active') return r.end(String(active));
  if (q.url === '/total') return r.end(String(total));
  if (q.url !== '/stream') return r.end('ws-echo');
  // An endless response: only a closed connection ends it, so a leaked upstream socket shows.
  active++;
  total++;
  const t = setInterval(() => r.write('x'.repeat(1024)), 50);
  r.on('close', () => { clearInterval(t); active--; });
});
s.on('upgrade', (req, sock) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: ' + accept + '\\r\\n\\r\\n');
  sock.on('data', (b) => {
    const len = b[1] & 127, mask = b.subarray(2, 6), data = Buffer.from(b.subarray(6, 6 + len));
    for (let i = 0; i < len; i++) data[i] ^= mask[i % 4];
    sock.write(Buffer.concat([Buffer.from([0x81, len]), data]));
  });
});
s.listen(8080, process.env.POD_IP);
`;

describe('WebSocket', () => {
  it('echoes a frame through the ingress', async () => {
    await cluster.apply([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'ws', namespace: 'default' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'ws' } },
          template: {
            metadata: { labels: { app: 'ws' } },
            spec: { containers: [{ name: 'ws', image: 'node:20', command: [process.execPath, '-e', wsEcho], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
          },
        },
      } as never,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ws', namespace: 'default' }, spec: { selector: { app: 'ws' }, ports: [{ port: 80, targetPort: 8080 }] } } as never,
      ingress('ws', 'ws.example.com', 'ws'),
    ]);
    const key = crypto.randomBytes(16).toString('base64');
    const sock = net.connect({ host: ing.host, port: ing.httpPort });
    const received: Buffer[] = [];
    sock.on('data', (b: Buffer) => received.push(b));
    const all = () => Buffer.concat(received);
    sock.write(`GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await cluster.waitFor(() => all().includes('\r\n\r\n'), 'the 101 answer', 10_000);
    const head = all().toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head).toContain(`Sec-WebSocket-Accept: ${crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')}`);
    const headLen = all().indexOf('\r\n\r\n') + 4;
    const msg = Buffer.from('hello through knet');
    const mask = crypto.randomBytes(4);
    sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | msg.length]), mask, Buffer.from(msg.map((c, i) => c ^ mask[i % 4]!))]));
    await cluster.waitFor(() => all().length >= headLen + 2 + msg.length, 'the echoed frame', 10_000);
    const frame = all().subarray(headLen);
    expect(frame[0]).toBe(0x81);
    expect(frame.subarray(2, 2 + msg.length).toString()).toBe('hello through knet');
    sock.destroy();
  });
});

describe('client aborts', () => {
  it('free the upstream connection of each aborted streaming response', async () => {
    const [ws] = await cluster.readyEndpoints('ws');
    const active = async () => Number(await curl(`http://${ws}:8080/active`));
    expect(await active()).toBe(0);
    // 10 clients read an endless response through the ingress and give up after 1 s.
    await Promise.all(Array.from({ length: 10 }, () => curl('--max-time', '1', '-H', 'Host: ws.example.com', `${base()}/stream`)));
    expect(Number(await curl(`http://${ws}:8080/total`))).toBe(10);
    await cluster.waitFor(async () => (await active()) === 0, { what: 'the pod to see all 10 streams closed', timeoutMs: 10_000, detail: async () => `${await active()} still open` });
  });
});

describe('rolling update under load', () => {
  it('gives zero 5xx while the backend Deployment rolls', async () => {
    await cluster.apply([agnhostDeployment('roll', 2), ingress('roll', 'roll.example.com', 'roll')], { timeoutMs: 60_000 });
    const before = new Set(await podNames('roll'));
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    let stop = false;
    const pool = new Pool(base(), { connections: 4 });
    const worker = async () => {
      while (!stop) {
        try {
          const res = await pool.request({ path: '/hostname', method: 'GET', headers: { host: 'roll.example.com' } });
          await res.body.text();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        } catch (err) {
          errors.push(String(err));
        }
      }
    };
    const loop = Promise.all([worker(), worker(), worker(), worker()]);
    // wrk alongside for the first 8 s of the rollout: its "Non-2xx" line must not appear.
    const wrk = run('wrk', ['-t1', '-c4', '-d8s', '-H', 'Host: roll.example.com', `${base()}/hostname`]);
    await cluster.store.mutate('Deployment', 'default', 'roll', (d) => {
      const spec = d.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
      spec.template.metadata = { ...spec.template.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } };
      return d;
    });
    await cluster.waitFor(async () => {
      const all = ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === 'roll');
      const ready = all.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return all.length === 2 && ready.length === 2 && ready.every((p) => !before.has(p.metadata!.name!));
    }, 'the rollout to replace both pods', 60_000);
    const wrkOut = (await wrk).stdout;
    stop = true;
    await loop;
    await pool.close();
    expect(errors).toEqual([]);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(50);
    expect(wrkOut).toMatch(/Requests\/sec/);
    expect(wrkOut).not.toMatch(/Non-2xx|Socket errors/);
  });
});
