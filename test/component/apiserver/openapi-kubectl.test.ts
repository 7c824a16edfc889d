/**
 * The OpenAPI v3 documents against the real kubectl 1.32: `explain` prints the upstream field
 * documentation, `create -f` finds `fieldValidation` and asks for strict server-side
 * validation, and client-side `apply` reads the patch extensions, so it sends a strategic merge
 * patch that changes one container's image and keeps the others (applied with
 * dataplane/base/patch, as the apiserver will). The API around the documents is the test fake
 * in test/support/kube-api-fake.ts.
 */
import { describe, expect, it } from 'vitest';
import type { JsonMap } from '../../../dataplane/base/patch/json-value.js';
import { kubectlOnFakeApi } from '../../support/kubectl-on-fake-api.js';

const fake = kubectlOnFakeApi();
const { objects } = fake;

const deployment = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - { name: web, image: "${image}", ports: [{ containerPort: 80 }] }
      - { name: log, image: busybox }
`;

describe('kubectl 1.32 with the OpenAPI v3 documents', () => {
  it('explain prints the upstream documentation of a field and its children', async () => {
    const out = await fake.kubectl.run(['explain', 'pod.spec.containers']);
    expect(out.stderr).toBe('');
    expect(out.stdout).toContain('KIND:       Pod\nVERSION:    v1\n\nFIELD: containers <[]Container>');
    expect(out.stdout).toContain('List of containers belonging to the pod.');
    expect(out.stdout).toMatch(/\n {2}image\t<string>\n/);
    expect(out.stdout).toMatch(/\n {2}name\t<string> -required-\n/);
  });

  it('explain shows enums and resolves other groups', async () => {
    const out = await fake.kubectl.run(['explain', 'deployment.spec.strategy.type']);
    expect(out.stdout).toContain('GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: type <string>\nENUM:\n    Recreate\n    RollingUpdate\n');
  });

  it('create -f asks the server for strict field validation (the PATCH operation lists fieldValidation)', async () => {
    const out = await fake.kubectl.run(['create', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: default }\ndata: { a: "1" }\n');
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('configmap/cfg created\n');
    const post = fake.api.requests.find((r) => r.method === 'POST' && r.url.startsWith('/api/v1/namespaces/default/configmaps'));
    expect(post?.url).toContain('fieldValidation=Strict');
  });

  it('apply merges containers by name: a changed image keeps the other containers', async () => {
    expect((await fake.kubectl.run(['apply', '-f', '-'], deployment('nginx:1.27'))).stdout).toBe('deployment.apps/web created\n');
    // Someone else adds a container (a webhook, kubectl patch): not in the manifest, never applied.
    const key = '/apis/apps/v1/namespaces/default/deployments/web';
    const live = objects.get(key)!;
    const podSpec = ((live.spec as JsonMap).template as JsonMap).spec as JsonMap;
    podSpec.containers = [...(podSpec.containers as JsonMap[]), { name: 'injected', image: 'envoy' }];

    const before = fake.api.requests.length;
    const out = await fake.kubectl.run(['apply', '-f', '-'], deployment('nginx:1.28'));
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('deployment.apps/web configured\n');
    const patch = fake.api.requests.slice(before).find((r) => r.method === 'PATCH');
    expect(patch?.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patch?.url).toContain('fieldManager=kubectl-client-side-apply');
    expect(patch?.url).toContain('fieldValidation=Strict');
    const body = JSON.parse(patch!.body.toString()) as JsonMap;
    expect((((body.spec as JsonMap).template as JsonMap).spec as JsonMap)).toEqual({
      '$setElementOrder/containers': [{ name: 'web' }, { name: 'log' }],
      containers: [{ image: 'nginx:1.28', name: 'web' }],
    });
    const containers = (((objects.get(key)!.spec as JsonMap).template as JsonMap).spec as JsonMap).containers as JsonMap[];
    expect(containers.map((c) => `${c.name as string}=${c.image as string}`)).toEqual(['web=nginx:1.28', 'log=busybox', 'injected=envoy']);

  });

  it('re-applying an unchanged manifest prints unchanged and sends no PATCH', async () => {
    const manifest = deployment('nginx:1.27').replace('name: web, namespace', 'name: api, namespace');
    expect((await fake.kubectl.run(['apply', '-f', '-'], manifest)).stdout).toBe('deployment.apps/api created\n');
    const before = fake.api.requests.length;
    expect((await fake.kubectl.run(['apply', '-f', '-'], manifest)).stdout).toBe('deployment.apps/api unchanged\n');
    expect(fake.api.requests.slice(before).some((r) => r.method === 'PATCH')).toBe(false);
  });
});
