/**
 * knet's apiserver through @kubernetes/client-node, the official JavaScript client, loaded from
 * the cluster's kubeconfig: list, watch, an informer that sees every change, create, patch
 * (merge and JSON patch) and delete, and a watch from a version the server no longer has (410).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';

let cluster: KnetCluster;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

beforeAll(async () => {
  cluster = await startCluster({ manifests: 'examples/quickstart' });
  kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfig.yaml);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});
afterAll(async () => {
  await cluster?.close();
});

const configMap = (name: string, data: Record<string, string>): k8s.V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

describe('@kubernetes/client-node against knet', () => {
  it('lists pods and deployments, with selectors', async () => {
    const pods = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
    expect(pods.items).toHaveLength(3);
    expect(pods.items.every((p) => p.status?.podIP?.startsWith('127.'))).toBe(true);
    expect(Number(pods.metadata?.resourceVersion)).toBeGreaterThan(0);
    const byNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1' });
    expect(byNode.items.every((p) => p.spec?.nodeName === 'node-1')).toBe(true);
    const deploy = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(deploy.spec?.replicas).toBe(3);
  });

  it('creates, patches (merge patch and JSON patch) and deletes', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('client', { a: '1' }) });
    expect(created.metadata?.uid).toBeTruthy();
    const merged = await core.patchNamespacedConfigMap(
      { name: 'client', namespace: 'default', body: { data: { b: '2' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(merged.data).toEqual({ a: '1', b: '2' });
    // The generated patch methods send JSON patch by default.
    const patched = await core.patchNamespacedConfigMap({ name: 'client', namespace: 'default', body: [{ op: 'remove', path: '/data/a' }] });
    expect(patched.data).toEqual({ b: '2' });
    await core.deleteNamespacedConfigMap({ name: 'client', namespace: 'default' });
    await expect(core.readNamespacedConfigMap({ name: 'client', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });

  it('reports the apiserver errors as ApiExceptions with their Status', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('dup', {}) });
    const err = (await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('dup', {}) }).catch((e: unknown) => e)) as k8s.ApiException<string>;
    expect(err.code).toBe(409);
    const status = JSON.parse(err.body) as { reason: string; details: { kind: string; name: string } };
    expect(status.reason).toBe('AlreadyExists');
    expect(status.details).toMatchObject({ kind: 'configmaps', name: 'dup' });
    const missing = (await core.createNamespacedConfigMap({ namespace: 'nowhere', body: configMap('x', {}) }).catch((e: unknown) => e)) as k8s.ApiException<string>;
    expect(missing.code).toBe(404);
    expect(JSON.parse(missing.body).message).toBe('namespaces "nowhere" not found');
  });

  it('watches: ADDED, MODIFIED and DELETED in order, each with a newer resourceVersion', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const events: Array<{ type: string; name?: string; rv: number; data?: Record<string, string> }> = [];
    let done!: () => void;
    const deleted = new Promise<void>((resolve) => (done = resolve));
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type, obj: k8s.V1ConfigMap) => {
        if (type === 'BOOKMARK') return;
        events.push({ type, name: obj.metadata?.name, rv: Number(obj.metadata?.resourceVersion), data: obj.data });
        if (type === 'DELETED' && obj.metadata?.name === 'watched') done();
      },
      () => {},
    );
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: configMap('watched', { v: '1' }) });
      await core.replaceNamespacedConfigMap({ name: 'watched', namespace: 'default', body: configMap('watched', { v: '2' }) });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
      await deleted;
    } finally {
      req.abort();
    }
    const mine = events.filter((e) => e.name === 'watched');
    expect(mine.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(mine[1]!.data).toEqual({ v: '2' });
    expect(mine[0]!.rv).toBeLessThan(mine[1]!.rv);
    expect(mine[1]!.rv).toBeLessThan(mine[2]!.rv);
  });

  it('answers a watch from a version older than its window with 410 Expired', async () => {
    const errors: unknown[] = [];
    const got = new Promise<{ type: string; obj: { code?: number; reason?: string } }>((resolve) => {
      void new k8s.Watch(kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: '1' }, (type, obj) => resolve({ type, obj }), (e) => errors.push(e));
    });
    const first = await got;
    expect(first.type).toBe('ERROR');
    expect(first.obj).toMatchObject({ code: 410, reason: 'Expired' });
  });

  it('keeps an informer in step with every change', async () => {
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    let resolveDeleted!: () => void;
    const deleted = new Promise<void>((r) => (resolveDeleted = r));
    informer.on('add', (o) => o.metadata?.name?.startsWith('inf-') && seen.push(`add ${o.metadata.name} ${o.data?.n}`));
    informer.on('update', (o) => o.metadata?.name?.startsWith('inf-') && seen.push(`update ${o.metadata.name} ${o.data?.n}`));
    informer.on('delete', (o) => {
      if (!o.metadata?.name?.startsWith('inf-')) return;
      seen.push(`delete ${o.metadata.name}`);
      if (o.metadata.name === 'inf-9') resolveDeleted();
    });
    await informer.start();
    try {
      for (let i = 0; i < 10; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: configMap(`inf-${i}`, { n: '0' }) });
      for (let i = 0; i < 10; i++) {
        await core.patchNamespacedConfigMap({ name: `inf-${i}`, namespace: 'default', body: { data: { n: '1' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      }
      for (let i = 0; i < 10; i++) await core.deleteNamespacedConfigMap({ name: `inf-${i}`, namespace: 'default' });
      await deleted;
    } finally {
      await informer.stop();
    }
    for (let i = 0; i < 10; i++) {
      const mine = seen.filter((s) => s.split(' ')[1] === `inf-${i}`);
      expect(mine).toEqual([`add inf-${i} 0`, `update inf-${i} 1`, `delete inf-${i}`]);
    }
    expect(informer.list('default').filter((o) => o.metadata?.name?.startsWith('inf-'))).toEqual([]);
  });
});
