import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { connectRedis } from '../../dataplane/store/redis-connection.js';
import { ObjectStore } from '../../dataplane/store/object-store.js';
import { applyManifests, ApplyError } from '../../dataplane/api/apply.js';
import { parseManifestText, readManifestPaths } from '../../dataplane/api/manifests.js';
import { clusterConfig } from '../../dataplane/cluster-config.js';
import { bootstrapObjects } from '../../dataplane/cluster/bootstrap.js';

type KObjectWithSpec = import('../../dataplane/model/object.js').KObject & { spec?: { replicas?: number } };

let redis: TestRedis;
let seq = 0;
const config = clusterConfig(0);

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

async function freshStore(): Promise<ObjectStore> {
  const store = new ObjectStore(connectRedis(redis.url), `apply${++seq}`);
  await applyManifests(store, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object })));
  return store;
}

const svc = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: ${name} }
  ports:
  - port: 80
${extra}`;

describe('knet apply', () => {
  it('creates, then reports unchanged without a new resourceVersion', async () => {
    const store = await freshStore();
    const docs = parseManifestText(svc('web'), 'web.yaml');
    const [first] = await applyManifests(store, config, docs);
    expect(first!.action).toBe('created');
    const created = first!.object as Service;
    expect(created.spec?.clusterIP).toMatch(/^127\.(9[6-9]|10[0-9]|11[01])\./);
    const rv = await store.currentResourceVersion();
    const [again] = await applyManifests(store, config, docs);
    expect(again!.action).toBe('unchanged');
    expect(await store.currentResourceVersion()).toBe(rv);
    // A real change keeps the allocated clusterIP.
    const [changed] = await applyManifests(store, config, parseManifestText(svc('web').replace('port: 80', 'port: 8080'), 'web.yaml'));
    expect(changed!.action).toBe('configured');
    expect((changed!.object as Service).spec?.clusterIP).toBe(created.spec?.clusterIP);
    await store.close();
  });

  it('writes nothing when one document is bad, and names file, document, object, field and reason', async () => {
    const store = await freshStore();
    const text = `${svc('good')}---\n${svc('bad').replace('  - port: 80', '  - port: 80\n    foo: 1')}`;
    const err = await applyManifests(store, config, parseManifestText(text, 'app.yaml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as Error).message).toBe('app.yaml (document 2): Service "bad" is invalid: unknown field "spec.ports[0].foo"');
    expect(await store.get('Service', 'default', 'good')).toBeUndefined();
    await store.close();
  });

  it('rejects a NodePort outside the range and a taken one with the apiserver messages', async () => {
    const store = await freshStore();
    const np = (name: string, port: number) => svc(name, '').replace('spec:', 'spec:\n  type: NodePort').replace('  - port: 80', `  - port: 80\n    nodePort: ${port}`);
    await expect(applyManifests(store, config, parseManifestText(np('a', 40000), 'a.yaml'))).rejects.toThrow(
      'a.yaml (document 1): Service "a" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    await applyManifests(store, config, parseManifestText(np('a', 30080), 'a.yaml'));
    await expect(applyManifests(store, config, parseManifestText(np('b', 30080), 'b.yaml'))).rejects.toThrow('spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    await store.delete('Service', 'default', 'a');
    const [ok] = await applyManifests(store, config, parseManifestText(np('b', 30080), 'b.yaml'));
    expect((ok!.object as Service).spec?.ports?.[0]?.nodePort).toBe(30080);
    await store.close();
  });

  it('lets exactly one of two concurrent applies take the same NodePort', async () => {
    const store = await freshStore();
    const np = (name: string) => svc(name).replace('spec:', 'spec:\n  type: NodePort').replace('  - port: 80', '  - port: 80\n    nodePort: 31000');
    const results = await Promise.allSettled([
      applyManifests(store, config, parseManifestText(np('x'), 'x.yaml')),
      applyManifests(store, config, parseManifestText(np('y'), 'y.yaml')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toContain('provided port is already allocated');
    await store.close();
  });

  it('gives LoadBalancer services pool IPs, the ingress controller the first one', async () => {
    const store = await freshStore();
    const ingress = await store.get<Service>('Service', 'ingress-nginx', 'ingress-nginx-controller');
    expect(ingress?.status?.loadBalancer?.ingress?.[0]?.ip).toBe('127.18.255.200');
    const [lb] = await applyManifests(store, config, parseManifestText(svc('lb').replace('spec:', 'spec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local'), 'lb.yaml'));
    const s = lb!.object as Service;
    expect(s.status?.loadBalancer?.ingress?.[0]?.ip).toBe('127.18.255.201');
    expect(s.spec?.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(s.spec?.ports?.[0]?.nodePort).toBeGreaterThanOrEqual(30000);
    await store.close();
  });

  it('rejects objects in a namespace that does not exist, unless the same apply creates it', async () => {
    const store = await freshStore();
    const inNs = svc('n').replace('  name: n', '  name: n\n  namespace: shop');
    await expect(applyManifests(store, config, parseManifestText(inNs, 'n.yaml'))).rejects.toThrow('namespaces "shop" not found');
    await applyManifests(store, config, parseManifestText(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n${inNs}`, 'n.yaml'));
    expect(await store.get('Service', 'shop', 'n')).toBeDefined();
    // A later apply into the namespace, now that it exists.
    await applyManifests(store, config, parseManifestText(svc('m').replace('  name: m', '  name: m\n  namespace: shop'), 'm.yaml'));
    expect(await store.get('Service', 'shop', 'm')).toBeDefined();
    await store.close();
  });

  it('merges three ways like kubectl apply: keeps what others set, removes what the manifest dropped', async () => {
    const store = await freshStore();
    const deploy = (extra: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels: { app: d${extra} }
spec:
  selector: { matchLabels: { app: d } }
  template:
    metadata: { labels: { app: d } }
    spec: { containers: [{ name: c, image: nginx }] }
`;
    await applyManifests(store, config, parseManifestText(deploy(', team: a'), 'd.yaml'));
    // A controller annotates it and someone scales it.
    await store.mutate('Deployment', 'default', 'd', (o) => ({ ...o, metadata: { ...o.metadata, annotations: { ...o.metadata?.annotations, 'deployment.kubernetes.io/revision': '1' } }, spec: { ...(o.spec as object), replicas: 5 } }));
    const [same] = await applyManifests(store, config, parseManifestText(deploy(', team: a'), 'd.yaml'));
    expect(same!.action).toBe('unchanged');
    const [dropped] = await applyManifests(store, config, parseManifestText(deploy(''), 'd.yaml'));
    expect(dropped!.action).toBe('configured');
    const live = await store.get<KObjectWithSpec>('Deployment', 'default', 'd');
    expect(live?.metadata?.labels).toEqual({ app: 'd' });
    expect(live?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(live?.spec?.replicas).toBe(5);
    await store.close();
  });

  it('applies every manifest from the Kubernetes docs unchanged', async () => {
    const store = await freshStore();
    const dir = path.resolve(__dirname, '../unit/model/fixtures/k8s-doc-examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    const results = await applyManifests(store, config, readManifestPaths(files.map((f) => path.join(dir, f))));
    expect(results.length).toBeGreaterThanOrEqual(files.length);
    await store.close();
  });
});
