import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import { storeKeyspaces } from '../support/store-keyspaces.js';
import type { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { applyManifests, ApplyError } from '../../dataplane/base/admission/apply.js';
import { parseManifestText, readManifestPaths } from '../../dataplane/base/admission/manifests.js';
import { clusterConfig } from '../../dataplane/base/cluster-config.js';
import { bootstrapObjects, madeByControlPlane } from '../../dataplane/cluster/bootstrap.js';
import { deleteObject } from '../../dataplane/base/admission/writes.js';

type KObjectWithSpec = import('../../dataplane/base/model/object.js').KObject & { spec?: { replicas?: number } };

const newStore = storeKeyspaces('apply');
const config = clusterConfig(0);

async function freshStore(): Promise<ObjectStore> {
  const store = newStore();
  await applyManifests(store, config, bootstrapObjects(config).map((object, i) => ({ source: '<bootstrap>', index: i + 1, object, plain: madeByControlPlane(object) })));
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

  it("writes the control plane's own objects plainly (no last-applied annotation, as kubeadm makes them), the ingress install as kubectl apply does", async () => {
    const store = await freshStore();
    const annotations = async (kind: 'Namespace' | 'Service', ns: string | undefined, name: string) => (await store.get(kind, ns, name))?.metadata?.annotations ?? {};
    expect(await annotations('Namespace', undefined, 'default')).not.toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    expect(await annotations('Service', 'default', 'kubernetes')).not.toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    expect(await annotations('Service', 'ingress-nginx', 'ingress-nginx-controller')).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    // A plain re-write of an object that carries the annotation (an older cluster's) drops it.
    const [applied] = await applyManifests(store, config, parseManifestText(svc('web'), 'web.yaml'));
    const [plain] = await applyManifests(store, config, [{ source: '<bootstrap>', index: 1, object: applied!.object, plain: true }]);
    expect(plain!.object.metadata?.annotations ?? {}).not.toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
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
    await deleteObject(store, 'Service', 'default', 'a');
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

  it('merges lists by their merge keys like kubectl apply: a container someone else added survives an image change', async () => {
    const store = await freshStore();
    const deploy = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: m }
spec:
  selector: { matchLabels: { app: m } }
  template:
    metadata: { labels: { app: m } }
    spec:
      containers:
      - { name: web, image: ${image}, env: [{ name: A, value: "1" }] }
      - { name: log, image: busybox }
`;
    type Containers = Array<{ name: string; image?: string; env?: unknown[] }>;
    const containersOf = (o: KObjectWithSpec | undefined) => (o?.spec as { template: { spec: { containers: Containers } } }).template.spec.containers;
    await applyManifests(store, config, parseManifestText(deploy('nginx:1.27'), 'm.yaml'));
    // Someone else injects a sidecar and an env var (as a mutating webhook or kubectl patch would).
    await store.mutate<KObjectWithSpec>('Deployment', 'default', 'm', (o) => {
      const containers = containersOf(o);
      containers[0]!.env = [...(containers[0]!.env ?? []), { name: 'INJECTED', value: 'yes' }];
      containers.push({ name: 'proxy', image: 'envoy' });
      return o;
    });
    const [changed] = await applyManifests(store, config, parseManifestText(deploy('nginx:1.28'), 'm.yaml'));
    expect(changed!.action).toBe('configured');
    const live = containersOf(await store.get<KObjectWithSpec>('Deployment', 'default', 'm'));
    expect(live.map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:1.28'],
      ['log', 'busybox'],
      ['proxy', 'envoy'],
    ]);
    expect(live[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'INJECTED', value: 'yes' },
    ]);
    await store.close();
  });

  describe('DefaultIngressClass admission (the bootstrap IngressClass nginx is the default)', () => {
    const ingress = (name: string, extra = '', annotations = '') => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}${annotations ? `\n  annotations: { ${annotations} }` : ''}
spec:${extra}
  rules:
  - host: ${name}.example.com
    http:
      paths:
      - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
    const ingressClass = (name: string, isDefault: boolean) => `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: ${name}
  annotations: { ingressclass.kubernetes.io/is-default-class: "${isDefault}" }
spec: { controller: example.com/${name} }
`;
    const className = async (store: ObjectStore, name: string) => (await store.get<Ingress>('Ingress', 'default', name))?.spec?.ingressClassName;

    it('an Ingress created without a class is stored with the default one; re-applying and changing it keep it', async () => {
      const store = await freshStore();
      const [created] = await applyManifests(store, config, parseManifestText(ingress('web'), 'ing.yaml'));
      expect((created!.object as Ingress).spec?.ingressClassName).toBe('nginx');
      expect(await className(store, 'web')).toBe('nginx');
      // kubectl's last-applied is the manifest as written: the class is not the user's field.
      expect(JSON.parse((await store.get<Ingress>('Ingress', 'default', 'web'))!.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration']!).spec.ingressClassName).toBeUndefined();
      const [again] = await applyManifests(store, config, parseManifestText(ingress('web'), 'ing.yaml'));
      expect(again!.action).toBe('unchanged');
      const [changed] = await applyManifests(store, config, parseManifestText(ingress('web').replace('number: 80', 'number: 8080'), 'ing.yaml'));
      expect(changed!.action).toBe('configured');
      expect(await className(store, 'web')).toBe('nginx');
      await store.close();
    });

    it('leaves a class that is named, and an Ingress with the deprecated kubernetes.io/ingress.class annotation (any value)', async () => {
      const store = await freshStore();
      await applyManifests(
        store,
        config,
        parseManifestText([ingress('named', '\n  ingressClassName: other'), ingress('legacy', '', 'kubernetes.io/ingress.class: nginx'), ingress('empty', '', 'kubernetes.io/ingress.class: ""')].join('---\n'), 'ing.yaml'),
      );
      expect([await className(store, 'named'), await className(store, 'legacy'), await className(store, 'empty')]).toEqual(['other', undefined, undefined]);
      await store.close();
    });

    it('runs on create only: an Ingress created while no class was default gets none when it is updated later', async () => {
      const store = await freshStore();
      await applyManifests(store, config, parseManifestText(ingressClass('nginx', false).replace('example.com/nginx', 'k8s.io/ingress-nginx'), 'class.yaml'));
      await applyManifests(store, config, parseManifestText(ingress('early'), 'ing.yaml'));
      expect(await className(store, 'early')).toBeUndefined();
      await applyManifests(store, config, parseManifestText(ingressClass('nginx', true).replace('example.com/nginx', 'k8s.io/ingress-nginx'), 'class.yaml'));
      const [changed] = await applyManifests(store, config, parseManifestText(ingress('early').replace('number: 80', 'number: 8080'), 'ing.yaml'));
      expect(changed!.action).toBe('configured');
      expect(await className(store, 'early')).toBeUndefined();
      await applyManifests(store, config, parseManifestText(ingress('late'), 'ing.yaml'));
      expect(await className(store, 'late')).toBe('nginx');
      await store.close();
    });

    // `fast` is both newer than the bootstrap's nginx and first by name (the tie-break within
    // one second), so either rule picks it; the rules themselves are unit-tested.
    it('a second default class created earlier in the same apply counts; one in a later document does not yet', async () => {
      const store = await freshStore();
      await applyManifests(store, config, parseManifestText([ingress('before'), ingressClass('fast', true), ingress('after')].join('---\n'), 'batch.yaml'));
      expect([await className(store, 'before'), await className(store, 'after')]).toEqual(['nginx', 'fast']);
      await applyManifests(store, config, parseManifestText(ingress('next'), 'ing.yaml'));
      expect(await className(store, 'next')).toBe('fast');
      await store.close();
    });
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
