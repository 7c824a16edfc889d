/**
 * A preStop hook through a scale-down, with the real kubectl: the Deployment's pod has
 * `preStop: {sleep: {seconds: 2}}` and an image that stops serving at SIGTERM (the identity
 * responder), so whatever answers while it terminates is the hook's doing. Its EndpointSlice
 * says terminating, serving and not ready; with no ready endpoint left kube-proxy falls back to
 * the serving terminating one, so curl through the ClusterIP still answers; and no hook failed.
 */
import { expect, it } from 'vitest';
import type { EndpointConditions, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';
import { curl } from './proxy-helpers.js';

let cluster: KnetCluster;
const { ok, file } = kubectlCluster({ components: { ingress: false, dns: false } }, { started: (k) => ({ cluster } = k) });

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example.com/web:1
        ports: [{containerPort: 8080}]
        lifecycle:
          preStop:
            sleep: {seconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

/** Resolves with the conditions of the first endpoint of Service `web` that is terminating. */
function terminatingEndpoint(): Promise<EndpointConditions> {
  return new Promise((resolve) => {
    const check = (s: EndpointSlice) => {
      if (s.metadata?.labels?.['kubernetes.io/service-name'] !== 'web') return;
      const ep = (s.endpoints ?? []).find((e) => e.conditions?.terminating);
      if (!ep) return;
      stop();
      resolve(ep.conditions!);
    };
    const stop = cluster.watch<EndpointSlice>('EndpointSlice', { add: check, update: (_old, s) => check(s) });
  });
}

it('a terminating pod keeps answering through its ClusterIP while its preStop sleep runs; no hook fails', async () => {
  await ok('apply', '-f', file('web.yaml', manifest));
  await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
  await cluster.waitForEndpoints('web', 1);
  const ip = await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}');
  const pod = await ok('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}');
  expect((await curl(`http://${ip}/`)).code).toBe(0);

  const terminating = terminatingEndpoint();
  await ok('scale', 'deployment/web', '--replicas=0');
  expect(await terminating).toEqual({ ready: false, serving: true, terminating: true });
  // The node agent has begun stopping it (Killing comes before the hook): without the hook the
  // container would be gone by now.
  await cluster.waitFor(async () => (await cluster.events({ for: `pod/${pod}` })).some((e) => e.reason === 'Killing'), { what: 'the Killing event', kinds: ['Event'] });
  const during = await curl(`http://${ip}/`);
  expect(during.code).toBe(0);
  expect(during.body).toContain(pod);

  await ok('wait', '--for=delete', `pod/${pod}`, '--timeout=30s');
  const reasons = (await ok('get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'jsonpath={range .items[*]}{.type} {.reason}{"\\n"}{end}')).trim().split('\n');
  expect(reasons).toContain('Normal Killing');
  expect(reasons.filter((r) => r.startsWith('Warning'))).toEqual([]);
  // Once the hook ended the pod stopped at SIGTERM: nothing answers any more.
  expect((await curl(`http://${ip}/`)).code).not.toBe(0);
});
