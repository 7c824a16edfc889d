/**
 * `kubectl apply --server-side` (1.32) against dataplane/base/patch's server-side apply, wired
 * to HTTP by the test fake: creation with an Apply entry, a conflict with another manager
 * printed as kubectl prints it, and `--force-conflicts` taking the field over.
 */
import { describe, expect, it } from 'vitest';
import type { JsonMap } from '../../../dataplane/base/patch/json-value.js';
import { kubectlOnFakeApi } from '../../support/kubectl-on-fake-api.js';

const fake = kubectlOnFakeApi();
const { objects } = fake;

const cm = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings, namespace: default }\ndata: { mode: "${value}" }\n`;
const KEY = '/api/v1/namespaces/default/configmaps/settings';

describe('kubectl apply --server-side', () => {
  it('creates with an Apply entry for the field manager kubectl names', async () => {
    const out = await fake.kubectl.run(['apply', '--server-side', '-f', '-'], cm('fast'));
    expect(out.stderr).toBe('');
    expect(out.stdout).toBe('configmap/settings serverside-applied\n');
    const patch = fake.api.requests.find((r) => r.method === 'PATCH');
    expect(patch?.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(patch?.url).toContain('fieldManager=kubectl');
    const entries = (objects.get(KEY)!.metadata as JsonMap).managedFields as JsonMap[];
    expect(entries).toEqual([expect.objectContaining({ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsV1: { 'f:data': { 'f:mode': {} } } })]);
  });

  it('a different value from another manager is a conflict, with upstream text; --force-conflicts takes it', async () => {
    const out = await fake.kubectl.run(['apply', '--server-side', '--field-manager=ops', '-f', '-'], cm('safe'));
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('error: Apply failed with 1 conflict: conflict with "kubectl": .data.mode');
    expect(out.stderr).toContain('Please review the fields above--they currently have other managers.');
    expect((objects.get(KEY)!.data as JsonMap).mode).toBe('fast');

    const forced = await fake.kubectl.run(['apply', '--server-side', '--field-manager=ops', '--force-conflicts', '-f', '-'], cm('safe'));
    expect(forced.stderr).toBe('');
    expect((objects.get(KEY)!.data as JsonMap).mode).toBe('safe');
    const managers = ((objects.get(KEY)!.metadata as JsonMap).managedFields as JsonMap[]).map((e) => e.manager);
    expect(managers).toEqual(['ops']);
  });

  it('without a field manager the server answers 422 with the apiserver text', async () => {
    const res = await fetch(`${fake.api.url}${KEY}`, { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: cm('x') });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });
});
