/**
 * A knet cluster as a vitest fixture: started once per test file (scope 'file'), closed after
 * its last test, and handed to every test that asks for `cluster`. Test files run in parallel
 * workers, each with its own cluster.
 *
 * In your project: import { startCluster } from 'knet';
 */
import { test as base, expect } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster } from '../../dataplane/index.js';

const test = base.extend('cluster', { scope: 'file' }, async ({}, { onCleanup }) => {
  const cluster = await startCluster({ manifests: 'examples/quickstart' });
  onCleanup(() => cluster.close());
  return cluster;
});

test('the web Service answers by its DNS name, round robin over its pods', async ({ cluster }) => {
  const pods = await cluster.waitForPods('deployment/web');
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) seen.add(await (await cluster.fetch('http://web.default.svc.cluster.local/hostname')).text());
  expect([...seen].sort()).toEqual(pods.map((p) => p.metadata!.name!).sort());
});

test('the Ingress routes web.example.com to it', async ({ cluster }) => {
  const { httpPort } = cluster.ingressAddress();
  const res = await cluster.fetch(`http://web.example.com:${httpPort}/hostname`);
  expect(res.status).toBe(200);
});

test('a deleted pod is replaced and the Service keeps serving', async ({ cluster }) => {
  const [victim] = await cluster.waitForPods('deployment/web');
  await cluster.delete('pod', victim!.metadata!.name!, 'default', { gracePeriodSeconds: 0, wait: true });
  const pods: Pod[] = await cluster.waitForPods('deployment/web');
  expect(pods.map((p) => p.metadata?.name)).not.toContain(victim!.metadata!.name);
  await cluster.waitForEndpoints('web', 3);
  expect((await cluster.fetch('http://web.default.svc.cluster.local/hostname')).status).toBe(200);
});
