/**
 * The apiserver under stress and faults, against a real Redis and real HTTPS: 1,000 watches held
 * at once, a 20 MB body refused with 413, fuzzed routes and bodies answered with a Status (never
 * a 500 or a crash), and watches across a Redis restart — every event when Redis comes back
 * with its data, a 410 Expired when it lost some.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { startEmbeddedRedis } from '../../dataplane/cluster/embedded-redis.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { StoreInformerFactory } from '../../dataplane/base/store/watch.js';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { silentLogger } from '../../dataplane/base/log.js';
import { startApiServer, type ApiServer } from '../../dataplane/apiserver/apiserver.js';

let redis: TestRedis;
let store: ObjectStore;
let informers: StoreInformerFactory;
let api: ApiServer;
let agent: Agent;
let base: string;
const pkiDir = mkdtempSync(path.join(os.tmpdir(), 'knet-api-pki-'));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const auth = () => ({ authorization: `Bearer ${api.pki.adminToken}` });

async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${base}${p}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: { ...auth(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

const configMap = (name: string, ns = 'default') => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { a: 'b' } });

/** A watch stream's lines as they come, with a way to wait for one. */
async function openWatch(p: string, dispatcher = agent) {
  const res = await request(`${base}${p}`, { dispatcher, headers: auth() });
  const lines: Array<{ type: string; object: { metadata?: { name?: string; resourceVersion?: string }; code?: number; reason?: string } }> = [];
  let waiters: Array<() => void> = [];
  let ended = false;
  let partial = '';
  res.body.setEncoding('utf8');
  res.body.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const l of parts) if (l) lines.push(JSON.parse(l));
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  });
  res.body.on('end', () => {
    ended = true;
    for (const fn of waiters) fn();
  });
  res.body.on('error', () => {});
  return {
    status: res.statusCode,
    lines,
    get ended() {
      return ended;
    },
    until: async (test: () => boolean, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!test()) {
        if (ended && !test()) throw new Error(`watch ended before ${what}: ${JSON.stringify(lines.slice(-3))}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within 20 s: ${JSON.stringify(lines.slice(-3))}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => res.body.destroy(),
  };
}

beforeAll(async () => {
  redis = await startTestRedis();
  store = new ObjectStore(connectRedis(redis.url), 'rel');
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz' } });
  informers = new StoreInformerFactory(store, { redisUrl: redis.url, blockMs: 500 });
  const port = await freePort();
  api = await startApiServer({ store, informers, config: { ...clusterConfig(0, 'rel'), apiServerAddress: '127.0.0.1', apiServerPort: port }, log: silentLogger, pkiDir });
  base = `https://127.0.0.1:${port}`;
  agent = new Agent({ connect: { ca: api.pki.caCert }, connections: 2000 });
});
afterAll(async () => {
  await agent?.close();
  await api?.close();
  await informers?.close();
  await store?.close();
  await redis?.cleanup();
  rmSync(pkiDir, { recursive: true, force: true });
});

describe('apiserver limits', () => {
  it('refuses a 20 MB body with 413 and a Status, and keeps serving', async () => {
    const big = JSON.stringify({ ...configMap('big'), data: { blob: 'x'.repeat(20 * 1024 * 1024) } });
    const r = await call('POST', '/api/v1/namespaces/default/configmaps', big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/big')).status).toBe(404);
    expect((await call('GET', '/version')).status).toBe(200);
  });

  it('holds 1,000 concurrent watches and delivers a change to every one', async () => {
    // Opened 100 at a time: this process runs both ends of every TLS handshake.
    const watches: Array<Awaited<ReturnType<typeof openWatch>>> = [];
    for (let i = 0; i < 10; i++) watches.push(...(await Promise.all(Array.from({ length: 100 }, () => openWatch('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=120')))));
    try {
      expect(watches.every((w) => w.status === 200)).toBe(true);
      expect(api.counters.watches).toBeGreaterThanOrEqual(1000);
      expect((await call('POST', '/api/v1/namespaces/default/configmaps', configMap('broadcast'))).status).toBe(201);
      await Promise.all(watches.map((w) => w.until(() => w.lines.some((l) => l.type === 'ADDED' && l.object.metadata?.name === 'broadcast'), 'the ADDED of broadcast')));
    } finally {
      for (const w of watches) w.close();
    }
  }, 60_000);

  it('answers any route, query and body with a Status, never a 500, and never crashes', async () => {
    const segment = fc.oneof(fc.constantFrom('api', 'apis', 'v1', 'apps', 'namespaces', 'fuzz', 'default', 'pods', 'configmaps', 'deployments', 'status', 'scale', 'log', 'eviction', 'binding', 'watch', 'openapi', 'v3', 'x', '%', '..', ''), fc.string({ maxLength: 8 }));
    const query = fc.dictionary(
      fc.constantFrom('labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'dryRun', 'fieldValidation', 'fieldManager', 'propagationPolicy', 'gracePeriodSeconds', 'includeObject', 'tailLines', 'force'),
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('All', 'Strict', '0', '-1', 'a=b', 'metadata.name=x', 'True', 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJ4In0')),
      { maxKeys: 4 },
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 50 }),
      fc.json({ maxDepth: 3 }),
      fc.record({ apiVersion: fc.constantFrom('v1', 'apps/v1', 'x'), kind: fc.constantFrom('ConfigMap', 'Pod', 'Deployment', 'Scale', 'Eviction'), metadata: fc.record({ name: fc.string({ maxLength: 10 }), namespace: fc.constantFrom('fuzz', 'other') }), spec: fc.jsonValue({ maxDepth: 2 }), data: fc.jsonValue({ maxDepth: 1 }) }).map((o) => JSON.stringify(o)),
    );
    const contentType = fc.constantFrom('application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'text/plain');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), fc.array(segment, { minLength: 1, maxLength: 7 }), query, body, contentType, async (method, segs, q, b, ct) => {
        const params = new URLSearchParams({ ...q, timeoutSeconds: '1' });
        const p = `/${segs.map((s) => encodeURIComponent(s)).join('/')}?${params}`;
        const r = await call(method, p, b, b !== undefined ? { 'content-type': ct } : {});
        expect(r.status, `${method} ${p}: ${r.text.slice(0, 300)}`).toBeLessThan(500);
        // /openapi/v3 answers its errors as kube-openapi does: plain text ("404 page not found").
        const openapi = segs[0] === 'openapi' && segs[1] === 'v3';
        if (r.status >= 400 && r.status !== 413 && !openapi) expect(JSON.parse(r.text)).toMatchObject({ kind: 'Status', code: r.status });
      }),
      { numRuns: 300 },
    );
    expect((await call('GET', '/version')).status).toBe(200);
  }, 120_000);
});

describe('watches across Redis restarts', () => {
  it('delivers every event, in order, when Redis comes back with its data', async () => {
    const list = JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps')).text) as { metadata: { resourceVersion: string } };
    const w = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=60`);
    try {
      // "With its data": every write on disk before it is acknowledged. Under appendfsync
      // everysec a busy disk lets Redis postpone its AOF writes by up to 2 s, and a SIGKILL
      // then loses them: that case is the 410 test below.
      execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), '--no-auth-warning', '-a', redis.password, 'CONFIG', 'SET', 'appendfsync', 'always']);
      for (let i = 0; i < 5; i++) expect((await call('POST', '/api/v1/namespaces/default/configmaps', configMap(`before-${i}`))).status).toBe(201);
      redis = await redis.crashAndRestart();
      // Writes after the restart, through the same apiserver (its connections reconnect).
      for (let i = 0; i < 5; i++) {
        for (;;) {
          const r = await call('POST', '/api/v1/namespaces/default/configmaps', configMap(`after-${i}`));
          if (r.status === 201) break;
          expect(r.status, r.text).toBe(503);
        }
      }
      await w.until(() => w.lines.some((l) => l.object.metadata?.name === 'after-4'), 'after-4');
      const names = w.lines.filter((l) => l.type === 'ADDED').map((l) => l.object.metadata?.name);
      expect(names).toEqual([...Array.from({ length: 5 }, (_, i) => `before-${i}`), ...Array.from({ length: 5 }, (_, i) => `after-${i}`)]);
      const rvs = w.lines.map((l) => Number(l.object.metadata?.resourceVersion));
      expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    } finally {
      w.close();
    }
  }, 60_000);

  it('ends the watch with 410 Expired when Redis comes back without the history the watch needs', async () => {
    const w = await openWatch('/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=60');
    try {
      await w.until(() => w.lines.length > 0, 'the initial ADDEDs');
      // Redis loses everything (a new, empty data dir on the same address): the version goes backwards.
      redis.process.kill('SIGKILL');
      await new Promise((r) => redis.process.once('exit', r));
      const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'knet-redis-empty-'));
      const fresh = await startEmbeddedRedis({ dir: emptyDir, port: redis.port, password: redis.password });
      redis = { ...redis, ...fresh, dir: emptyDir, process: fresh.process, stop: fresh.stop, cleanup: async () => { await fresh.stop(); rmSync(emptyDir, { recursive: true, force: true }); } } as TestRedis;
      await w.until(() => w.lines.some((l) => l.type === 'ERROR'), 'an ERROR event');
      expect(w.lines.find((l) => l.type === 'ERROR')!.object).toMatchObject({ code: 410, reason: 'Expired' });
      await w.until(() => w.ended, 'the end of the stream');
      const after = JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps')).text) as { items: unknown[] };
      expect(after.items).toEqual([]);
      // The tests after this one write into `default` again.
      expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })).status).toBe(201);
    } finally {
      w.close();
    }
  }, 60_000);
});

describe('write options and subresources', () => {
  const pod = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'opt' } }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra } });

  it('dryRun=All validates, defaults and allocates but writes nothing', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/services?dryRun=All', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dry' }, spec: { ports: [{ port: 80 }] } });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.text).spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None' });
    expect((await call('GET', '/api/v1/namespaces/default/services/dry')).status).toBe(404);
    expect((await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=Some', configMap('x'))).status).toBe(422);
  });

  it('fieldValidation: Strict refuses unknown fields, Warn drops them with a Warning header, Ignore drops them', async () => {
    const body = { ...configMap('fv-strict'), bogus: 1 };
    const strict = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
    expect(strict.status).toBe(400);
    expect(JSON.parse(strict.text).message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"');
    const warn = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', { ...body, metadata: { name: 'fv-warn' } });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
    expect(JSON.parse(warn.text).bogus).toBeUndefined();
    const ignore = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Ignore', { ...body, metadata: { name: 'fv-ignore' } });
    expect(ignore.status).toBe(201);
    expect(ignore.headers.warning).toBeUndefined();
  });

  it('deletes a collection by label selector, and answers a delete with a Success Status naming the object', async () => {
    for (const n of ['dc-1', 'dc-2', 'dc-3']) await call('POST', '/api/v1/namespaces/default/configmaps', { ...configMap(n), metadata: { name: n, labels: { batch: n === 'dc-3' ? 'keep' : 'drop' } } });
    const dc = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Ddrop');
    expect(JSON.parse(dc.text).items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual(['dc-1', 'dc-2']);
    const one = await call('DELETE', '/api/v1/namespaces/default/configmaps/dc-3', { propagationPolicy: 'Background', preconditions: { uid: 'not-it' } });
    expect(one.status).toBe(409);
    expect(JSON.parse(one.text).message).toMatch(/^Operation cannot be fulfilled on configmaps "dc-3": Precondition failed: UID in precondition: not-it, UID in object meta: /);
    const ok = await call('DELETE', '/api/v1/namespaces/default/configmaps/dc-3', { propagationPolicy: 'Background' });
    expect(JSON.parse(ok.text)).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'dc-3', kind: 'configmaps' } });
  });

  it('binds a pod once (409 after), writes only status through /status, and evicts through /eviction', async () => {
    expect((await call('POST', '/api/v1/namespaces/default/pods', pod('sub'))).status).toBe(201);
    const bind = await call('POST', '/api/v1/namespaces/default/pods/sub/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'sub' }, target: { kind: 'Node', name: 'node-1' } });
    expect(bind.status).toBe(201);
    const again = await call('POST', '/api/v1/namespaces/default/pods/sub/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'sub' }, target: { kind: 'Node', name: 'node-2' } });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text).message).toContain('pod sub is already assigned to node "node-1"');
    const got = JSON.parse((await call('GET', '/api/v1/namespaces/default/pods/sub')).text);
    expect(got.spec.nodeName).toBe('node-1');
    expect(got.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    const st = await call('PATCH', '/api/v1/namespaces/default/pods/sub/status', { status: { phase: 'Running' }, metadata: { labels: { ignored: 'yes' } } }, { 'content-type': 'application/merge-patch+json' });
    expect(st.status).toBe(200);
    const after = JSON.parse(st.text);
    expect(after.status.phase).toBe('Running');
    expect(after.metadata.labels.ignored).toBeUndefined();
    const evict = await call('POST', '/api/v1/namespaces/default/pods/sub/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'sub' }, deleteOptions: { gracePeriodSeconds: 0 } });
    expect(evict.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/pods/sub')).status).toBe(404);
  });

  it('scales through the autoscaling/v1 Scale', async () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sc' }, spec: { replicas: 1, selector: { matchLabels: { app: 'sc' } }, template: { metadata: { labels: { app: 'sc' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
    expect((await call('POST', '/apis/apps/v1/namespaces/default/deployments', d)).status).toBe(201);
    const scale = JSON.parse((await call('GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale')).text);
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=sc' } });
    const patched = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' });
    expect(JSON.parse(patched.text).spec.replicas).toBe(4);
    const put = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/sc/scale', { ...scale, spec: { replicas: -1 } });
    expect(put.status).toBe(422);
    expect(JSON.parse((await call('GET', '/apis/apps/v1/namespaces/default/deployments/sc')).text).spec.replicas).toBe(4);
  });
});

describe('watch selectors', () => {
  it('turns an object leaving a label selector into DELETED and one entering it into ADDED', async () => {
    const mk = (name: string, tier: string) => ({ ...configMap(name), metadata: { name, labels: { tier } } });
    await call('POST', '/api/v1/namespaces/default/configmaps', mk('sel-1', 'fe'));
    const w = await openWatch('/api/v1/namespaces/default/configmaps?watch=true&labelSelector=tier%3Dfe&timeoutSeconds=60');
    try {
      await w.until(() => w.lines.some((l) => l.object.metadata?.name === 'sel-1'), 'the initial ADDED');
      await call('PATCH', '/api/v1/namespaces/default/configmaps/sel-1', { metadata: { labels: { tier: 'be' } } }, { 'content-type': 'application/merge-patch+json' });
      await call('PATCH', '/api/v1/namespaces/default/configmaps/sel-1', { metadata: { labels: { tier: 'fe' } } }, { 'content-type': 'application/merge-patch+json' });
      await call('DELETE', '/api/v1/namespaces/default/configmaps/sel-1');
      await w.until(() => w.lines.filter((l) => l.object.metadata?.name === 'sel-1').length === 4, 'four events');
      expect(w.lines.filter((l) => l.object.metadata?.name === 'sel-1').map((l) => l.type)).toEqual(['ADDED', 'DELETED', 'ADDED', 'DELETED']);
    } finally {
      w.close();
    }
  });
});
