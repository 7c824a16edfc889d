/**
 * The protobuf bodies kubectl 1.32 sends for `kubectl create <kind>` decode (with
 * decodeProtobufBody) to exactly the object kubectl prints for `--dry-run=client -o json`
 * (nulls aside), for each kind knet serves that kubectl creates this way.
 */
import { describe, expect, it } from 'vitest';
import type { JsonMap } from '../../../dataplane/base/patch/json-value.js';
import { kubectlOnFakeApi } from '../../support/kubectl-on-fake-api.js';

const fake = kubectlOnFakeApi();
const { objects } = fake;

const withoutNulls = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutNulls) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)])) : v;

const CASES: Array<{ args: string[]; path: string; printed: string }> = [
  { args: ['create', 'namespace', 'team-a'], path: '/api/v1/namespaces/team-a', printed: 'namespace/team-a created' },
  { args: ['create', 'configmap', 'cfg', '--from-literal=mode=fast', '--from-literal=level=3'], path: '/api/v1/namespaces/default/configmaps/cfg', printed: 'configmap/cfg created' },
  { args: ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=pass=s3cr3t'], path: '/api/v1/namespaces/default/secrets/creds', printed: 'secret/creds created' },
  { args: ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=80'], path: '/apis/apps/v1/namespaces/default/deployments/web', printed: 'deployment.apps/web created' },
  { args: ['create', 'service', 'nodeport', 'web', '--tcp=80:8080', '--node-port=30080'], path: '/api/v1/namespaces/default/services/web', printed: 'service/web created' },
];

describe('kubectl create sends protobuf', () => {
  for (const c of CASES) {
    it(`${c.args.slice(0, 3).join(' ')}: the decoded body is what kubectl would send as JSON`, async () => {
      const before = fake.api.requests.length;
      const out = await fake.kubectl.run(c.args);
      expect(out.stderr).toBe('');
      expect(out.stdout).toBe(`${c.printed}\n`);
      const post = fake.api.requests.slice(before).find((r) => r.method === 'POST');
      expect(post?.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
      const printed = await fake.kubectl.run([...c.args, '--dry-run=client', '-o', 'json']);
      const stored = { ...objects.get(c.path)! };
      stored.metadata = { ...(stored.metadata as JsonMap) };
      delete (stored.metadata as JsonMap).managedFields;
      expect(withoutNulls(stored)).toEqual(withoutNulls(JSON.parse(printed.stdout)));
    });
  }
});
