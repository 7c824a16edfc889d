/**
 * `/openapi/v3` over a real socket: the index, the per-group-version documents with
 * kube-openapi handler3's headers (Etag, Cache-Control for a hashed URL, 301 for a stale hash,
 * 304, 406), and what kubectl relies on inside the documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openapiRoutes } from '../../../dataplane/apiserver/openapi/openapi-routes.js';
import { FAKE_RESOURCES } from '../../support/kube-api-fake.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  const handler = openapiRoutes(FAKE_RESOURCES);
  server = http.createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(418);
      res.end('not mine');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }>; requestBody?: { content: Record<string, unknown> }; 'x-kubernetes-group-version-kind'?: unknown }>>;
  components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown; properties?: Record<string, Record<string, unknown>> }> };
}

describe('/openapi/v3', () => {
  it('lists one document per served group-version, each with its hash', async () => {
    const res = await get('/openapi/v3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('etag')).toMatch(/^"[0-9A-F]{128}"$/);
    const index = (await res.json()) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths).sort()).toEqual(['api/v1', 'apis/apps/v1', 'apis/autoscaling/v2', 'apis/batch/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1', 'apis/policy/v1', 'apis/rbac.authorization.k8s.io/v1', 'apis/scheduling.k8s.io/v1', 'apis/storage.k8s.io/v1']);
    expect(index.paths['api/v1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
  });

  it('serves a hashed document as immutable, redirects a stale hash, answers 304 and 406', async () => {
    const index = (await (await get('/openapi/v3')).json()) as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const hash = url.split('hash=')[1]!;
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${hash}"`);
    expect(res.headers.get('cache-control')).toBe('public, immutable');
    expect(new Date(res.headers.get('expires')!).getTime()).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
    expect(res.headers.get('vary')).toBe('Accept');
    expect(((await res.json()) as Doc).openapi).toBe('3.0.0');

    const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
    expect(stale.status).toBe(301);
    expect(stale.headers.get('location')).toBe(url);

    const plain = await get('/openapi/v3/apis/apps/v1');
    expect(plain.headers.get('cache-control')).toBeNull();
    expect((await get('/openapi/v3/apis/apps/v1', { 'If-None-Match': `"${hash}"` })).status).toBe(304);
    expect((await get(url, { Accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' })).status).toBe(406);
    expect((await get(url, { Accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf, application/json' })).status).toBe(200);
    expect((await get('/openapi/v3/apis/node.k8s.io/v1')).status).toBe(404);
    expect((await get('/openapi/v2')).status).toBe(418);
  });

  it('every PATCH lists fieldValidation and the four patch types, with its kind', async () => {
    for (const gv of ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/networking.k8s.io/v1']) {
      const doc = (await (await get(`/openapi/v3/${gv}`)).json()) as Doc;
      const patches = Object.entries(doc.paths).filter(([, item]) => item.patch);
      expect(patches.length).toBeGreaterThan(0);
      for (const [, item] of patches) {
        expect(item.patch!.parameters!.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['dryRun', 'fieldManager', 'fieldValidation', 'force']);
        expect(Object.keys(item.patch!.requestBody!.content).sort()).toEqual(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
        expect(item.patch!['x-kubernetes-group-version-kind']).toBeDefined();
      }
    }
    const core = (await (await get('/openapi/v3/api/v1')).json()) as Doc;
    expect(core.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.patch!['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Pod', version: 'v1' });
    expect(core.paths['/api/v1/nodes/{name}/status']!.patch).toBeDefined();
    const pod = core.components.schemas['io.k8s.api.core.v1.Pod']!;
    expect(pod['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    const containers = core.components.schemas['io.k8s.api.core.v1.PodSpec']!.properties!.containers!;
    expect(containers).toMatchObject({ 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
    // apps/v1 carries the core types its kinds use, and not the core kinds.
    const apps = (await (await get('/openapi/v3/apis/apps/v1')).json()) as Doc;
    expect(apps.components.schemas['io.k8s.api.core.v1.PodSpec']).toBeDefined();
    expect(apps.components.schemas['io.k8s.api.core.v1.Pod']).toBeUndefined();
  });
});
