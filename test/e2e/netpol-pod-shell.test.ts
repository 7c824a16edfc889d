/**
 * NetworkPolicy on the connections a pod's own shell makes (`kubectl exec web -- wget …`): the
 * destination's ingress rules see the pod that connects, so an allow-list by label admits it and
 * nobody else. (The shell's check once used the pod object the node started with, whose status
 * had no IP yet: every allow-list by pod denied every shell.)
 */
import { describe, expect, it } from 'vitest';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster!: KnetCluster;
const { ok, kubectl, file } = kubectlCluster({ components: { ingress: false } }, { started: (r) => (cluster = r.cluster) });

const busybox = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  nodeName: node-1
  containers: [{name: c, image: busybox:1.36, command: [sleep, infinity]}]
`;

const pods = `${busybox('web')}---
${busybox('other')}---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec:
  nodeName: node-2
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [netexec, --http-port=8080]}]
`;

const dbFromWeb = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
`;

describe("a pod's shell under an ingress allow-list", () => {
  it('the allowed pod reaches the isolated one; another pod times out', async () => {
    await ok('apply', '-f', file('pods.yaml', pods));
    await ok('wait', '--for=condition=Ready', 'pod/web', 'pod/other', 'pod/db', '--timeout=60s');
    const db = (await ok('get', 'pod', 'db', '-o', 'jsonpath={.status.podIP}')).trim();
    const wget = (from: string, timeout: number) => kubectl(['exec', from, '--', 'wget', '-qO-', '-T', String(timeout), `http://${db}:8080/hostname`]);
    expect((await wget('other', 10)).stdout).toBe('db');

    await ok('apply', '-f', file('policy.yaml', dbFromWeb));
    // Once the policy is enforced (the first denied wget), the allowed pod still gets through.
    const denied = await cluster.waitFor(async () => {
      const r = await wget('other', 2);
      return r.code !== 0 ? r : undefined;
    }, 'the policy to deny pod other');
    // Denied: the SYN is dropped, so wget's own timeout ends it (not a refusal).
    expect(denied).toMatchObject({ code: 1, stderr: expect.stringContaining('wget: download timed out') });
    expect(await wget('web', 10)).toMatchObject({ code: 0, stdout: 'db' });
  }, 120_000);
});
