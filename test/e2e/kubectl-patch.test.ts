/**
 * End to end with the real kubectl against a real knet cluster: client-side apply and
 * re-apply, an image change that keeps a container another manager added, explain, create
 * with a protobuf body, server-side apply with a conflict and --force-conflicts, and
 * `kubectl patch` with each patch type.
 */
import { describe, expect, it } from 'vitest';
import { kubectlCluster } from '../support/kubectl-cluster.js';

const { kubectl } = kubectlCluster({ components: { dns: false, ingress: false, proxy: false } }, { timeoutMs: 120_000 });

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - { name: web, image: "${image}", ports: [{ containerPort: 80 }] }
      - { name: log, image: busybox }
`;

describe('kubectl 1.32 against knet: patches, apply, explain, protobuf', () => {
  it('apply creates; re-applying the same manifest is unchanged', async () => {
    expect((await kubectl(['apply', '-f', '-'], deployment('nginx:1.27'))).stdout).toBe('deployment.apps/web created\n');
    expect((await kubectl(['apply', '-f', '-'], deployment('nginx:1.27'))).stdout).toBe('deployment.apps/web unchanged\n');
  });

  it('an image change keeps the container another manager added', async () => {
    const patch = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } } });
    expect((await kubectl(['patch', 'deployment', 'web', '-p', patch])).stdout).toBe('deployment.apps/web patched\n');
    expect((await kubectl(['apply', '-f', '-'], deployment('nginx:1.28'))).stdout).toBe('deployment.apps/web configured\n');
    const images = await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}']);
    expect(images.stdout.trim().split(' ').sort()).toEqual(['log=busybox', 'sidecar=busybox', 'web=nginx:1.28']);
  });

  it('kubectl patch with merge and json patches', async () => {
    expect((await kubectl(['patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"tier":"fe"}}}'])).stdout).toBe('deployment.apps/web patched\n');
    expect((await kubectl(['patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":2}]'])).stdout).toBe('deployment.apps/web patched\n');
    expect((await kubectl(['get', 'deployment', 'web', '-o', 'jsonpath={.metadata.labels.tier}/{.spec.replicas}'])).stdout).toBe('fe/2');
  });

  it('explain prints the field documentation', async () => {
    const out = await kubectl(['explain', 'pod.spec.containers']);
    expect(out.stdout).toContain('FIELD: containers <[]Container>');
    expect(out.stdout).toContain('List of containers belonging to the pod.');
  });

  it('create configmap sends protobuf and is stored', async () => {
    expect((await kubectl(['create', 'configmap', 'cfg', '--from-literal=mode=fast'])).stdout).toBe('configmap/cfg created\n');
    expect((await kubectl(['get', 'configmap', 'cfg', '-o', 'jsonpath={.data.mode}'])).stdout).toBe('fast');
  });

  it('server-side apply: a conflict with upstream text, then --force-conflicts', async () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ssa }\ndata: { mode: "${v}" }\n`;
    expect((await kubectl(['apply', '--server-side', '-f', '-'], cm('fast'))).stdout).toBe('configmap/ssa serverside-applied\n');
    const conflict = await kubectl(['apply', '--server-side', '--field-manager=ops', '-f', '-'], cm('safe'));
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl": .data.mode');
    expect((await kubectl(['apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', '-'], cm('safe'))).stdout).toBe('configmap/ssa serverside-applied\n');
    const managers = await kubectl(['get', 'configmap', 'ssa', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}']);
    expect(managers.stdout).toBe('ops');
  });
});
