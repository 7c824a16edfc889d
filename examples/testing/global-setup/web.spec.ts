/**
 * A test file using the cluster the global setup started: connectCluster() gives it the same
 * handle API (apply, waits, fetch by DNS name, faults, logs); its close() only disconnects.
 *
 * In your project: import { connectCluster, type KnetCluster } from 'knet';
 */
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { connectCluster, type KnetCluster } from '../../../dataplane/index.js';

let cluster: KnetCluster;
beforeAll(async () => {
  cluster = await connectCluster(inject('knet'));
});
afterAll(() => cluster.close());

test('the shared cluster serves the quickstart by DNS name', async () => {
  const res = await cluster.fetch('http://web.default.svc.cluster.local/hostname');
  expect(res.status).toBe(200);
  expect(await res.text()).toMatch(/^web-/);
});

test('a test can add its own objects and wait for them', async () => {
  await cluster.apply(`apiVersion: v1
kind: Pod
metadata: { name: spec-echo, labels: { app: spec-echo } }
spec:
  containers:
  - name: echo
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: ["netexec", "--http-port=8080"]
---
apiVersion: v1
kind: Service
metadata: { name: spec-echo }
spec:
  selector: { app: spec-echo }
  ports: [{ port: 80, targetPort: 8080 }]
`);
  expect(await (await cluster.fetch('http://spec-echo.default.svc.cluster.local/echo?msg=hi')).text()).toBe('hi');
  await cluster.delete('pod', 'spec-echo', 'default', { gracePeriodSeconds: 0 });
  await cluster.delete('service', 'spec-echo');
});
