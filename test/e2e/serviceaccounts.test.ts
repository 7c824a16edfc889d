/**
 * In-cluster API access end to end, on a real cluster with the real kubectl, curl and a real
 * program using @kubernetes/client-node: the `default` ServiceAccount and the kube-root-ca.crt
 * ConfigMap in every namespace, `kubectl create token`, bearer tokens at the apiserver (a
 * tampered one is 401), the service-account files in an emulated pod, and a pod's own program
 * listing Services through the official client's default loading.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { clientPod } from '../support/exec-pods.js';
import { knetExec as runKnetExec } from '../support/knet-cli.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROGRAM = path.resolve(here, '../fixtures/list-services.mjs');
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const MANIFESTS = [
  clientPod('client'),
  clientPod('sealed', { automountServiceAccountToken: false }),
  `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: Service
metadata: { name: cart, namespace: shop }
spec:
  ports: [{ port: 80 }]
`,
].join('---\n');

/** Applied once the cluster is up (kube-proxy serving the kubernetes Service), as a user would. */
const LISTER = `
apiVersion: v1
kind: Pod
metadata: { name: lister, namespace: shop }
spec:
  containers:
  - name: main
    image: node:20-slim
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(PROGRAM)}]
`;

let cluster: KnetCluster;
const { ok, kubectl } = kubectlCluster({ manifests: MANIFESTS, components: { ingress: false } }, { started: (k) => ({ cluster } = k) });
const api = () => `https://${cluster.config.apiServerAddress}:${cluster.config.apiServerPort}`;
const caFile = () => path.join(cluster.stateDir, 'pki', 'ca.crt');

/** curl against the apiserver with a bearer token: the HTTP code and body. */
function curl(pathname: string, token: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--cacert', caFile(), '-H', `Authorization: Bearer ${token}`, '-w', '\n%{http_code}', `${api()}${pathname}`], { timeout: 30_000 }, (err, stdout) => {
      if (err) return reject(err);
      const at = stdout.lastIndexOf('\n');
      resolve({ code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) });
    });
  });
}

/** `knet exec` through the CLI; its exit code, stdout and stderr. */
const knetExec = (args: string[]) => runKnetExec(cluster, args);

describe('service accounts', () => {
  it('every namespace has the default ServiceAccount and the kube-root-ca.crt ConfigMap with the cluster CA', async () => {
    await cluster.waitFor(async () => (await cluster.get<ServiceAccount>('serviceaccount', 'default', 'shop')) && (await cluster.get<ConfigMap>('configmap', 'kube-root-ca.crt', 'shop')), 'default ServiceAccount and kube-root-ca.crt in shop');
    expect(await ok('get', 'sa', '-n', 'shop')).toMatch(/^NAME\s+SECRETS\s+AGE\ndefault\s+0\s+\d+s\n$/);
    const ca = (await cluster.get<ConfigMap>('configmap', 'kube-root-ca.crt', 'kube-system'))!;
    expect(ca.data).toEqual({ 'ca.crt': readFileSync(caFile(), 'utf8') });
    // A namespace created through the API gets them too; deleted, they come back. (Not in shop:
    // a recreated service account has a new uid, and the tokens of the old one stop working.)
    await ok('create', 'namespace', 'scratch');
    const first = await cluster.waitFor(() => cluster.get<ServiceAccount>('serviceaccount', 'default', 'scratch'), 'the default ServiceAccount in scratch');
    await ok('delete', 'sa', 'default', '-n', 'scratch');
    await ok('delete', 'configmap', 'kube-root-ca.crt', '-n', 'scratch');
    await cluster.waitFor(async () => {
      const sa = await cluster.get<ServiceAccount>('serviceaccount', 'default', 'scratch');
      return sa && sa.metadata?.uid !== first.metadata?.uid && (await cluster.get<ConfigMap>('configmap', 'kube-root-ca.crt', 'scratch'));
    }, 'the default ServiceAccount and kube-root-ca.crt recreated');
  });

  it('admits pods as upstream: serviceAccountName default and the kube-api-access volume; a missing service account is Forbidden', async () => {
    const pod = (await cluster.get<Pod>('pod', 'client'))!;
    expect(pod.spec?.serviceAccountName).toBe('default');
    const volume = pod.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(volume?.projected?.sources?.map((s) => Object.keys(s)[0])).toEqual(['serviceAccountToken', 'configMap', 'downwardAPI']);
    expect(pod.spec?.containers[0]?.volumeMounts).toEqual([{ name: volume!.name, readOnly: true, mountPath: SA_DIR }]);
    expect((await cluster.get<Pod>('pod', 'sealed'))!.spec?.volumes).toBeUndefined();
    const r = await kubectl(['run', 'nobody', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"ghost"}}', '--', 'sleep', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error from server (Forbidden): pods "nobody" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found');
    // kubectl create serviceaccount (a protobuf body); then a pod may run as it.
    expect(await ok('create', 'serviceaccount', 'builder')).toBe('serviceaccount/builder created\n');
    expect(await ok('run', 'builder', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"builder"}}', '--', 'sleep', 'infinity')).toBe('pod/builder created\n');
    expect((await cluster.get<Pod>('pod', 'builder'))!.spec?.serviceAccountName).toBe('builder');
  });
});

describe('tokens', () => {
  it('kubectl create token issues a token the apiserver takes as the service account; a tampered one is 401', async () => {
    const token = (await ok('create', 'token', 'default')).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'system:serviceaccount:default:default', iss: `https://kubernetes.default.svc.${cluster.config.clusterDomain}` });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(3600);
    const pods = await curl('/api/v1/namespaces/default/pods', token);
    expect(pods.code).toBe(200);
    expect((JSON.parse(pods.body) as { items: Pod[] }).items.map((p) => p.metadata?.name)).toContain('client');
    const [h, , s] = token.split('.') as [string, string, string];
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${s}`;
    const denied = await curl('/api/v1/namespaces/default/pods', forged);
    expect(denied.code).toBe(401);
    expect(JSON.parse(denied.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await curl('/api/v1/namespaces/default/pods', `${token.slice(0, -4)}AAAA`)).code).toBe(401);
  });

  it('binds a token to a pod and refuses what upstream refuses', async () => {
    const client = (await cluster.get<Pod>('pod', 'client'))!;
    const bound = (await ok('create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=client', `--bound-object-uid=${client.metadata!.uid!}`, '--duration=20m')).trim();
    const claims = JSON.parse(Buffer.from(bound.split('.')[1]!, 'base64url').toString()) as { 'kubernetes.io': { pod: { name: string; uid: string } } };
    expect(claims['kubernetes.io'].pod).toEqual({ name: 'client', uid: client.metadata!.uid });
    expect((await curl('/api/v1/namespaces/default/services', bound)).code).toBe(200);
    const short = await kubectl(['create', 'token', 'default', '--duration=5m']);
    expect(short.stderr).toMatch(/may not specify a duration less than 10 minutes|must be greater/);
    const missing = await kubectl(['create', 'token', 'ghost']);
    expect(missing.stderr).toBe('error: failed to create token: serviceaccounts "ghost" not found\n');
  });
});

describe('TokenReview', () => {
  it('says who a token is, for the audiences asked, and that a bad one is not authenticated', async () => {
    expect(await ok('api-resources', '--api-group=authentication.k8s.io')).toMatch(/^tokenreviews\s+authentication\.k8s\.io\/v1\s+false\s+TokenReview$/m);
    const create = async (spec: Record<string, unknown>) => {
      const r = await kubectl(['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec }));
      if (r.code !== 0) throw new Error(`kubectl create tokenreview failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { status: { authenticated?: boolean; user: { username?: string; groups?: string[] }; audiences?: string[]; error?: string } };
    };
    const token = (await ok('create', 'token', 'default', '-n', 'shop')).trim();
    const good = await create({ token });
    expect(good.status).toMatchObject({ authenticated: true, user: { username: 'system:serviceaccount:shop:default', groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'] }, audiences: [`https://kubernetes.default.svc.${cluster.config.clusterDomain}`] });
    const vault = (await ok('create', 'token', 'default', '--audience=vault')).trim();
    expect((await create({ token: vault })).status.authenticated).toBeUndefined();
    expect((await create({ token: vault, audiences: ['vault'] })).status).toMatchObject({ authenticated: true, audiences: ['vault'] });
    const bad = await create({ token: `${token.slice(0, -4)}AAAA` });
    expect(bad.status).toEqual({ user: {}, error: 'invalid signature' });
  });
});

describe('inside a pod', () => {
  it("an emulated pod has its service-account files, KUBERNETES_SERVICE_HOST/PORT, and its token authenticates as the pod's service account", async () => {
    expect((await knetExec(['client', '--', 'cat', `${SA_DIR}/namespace`])).stdout).toBe('default');
    expect((await knetExec(['client', '--', 'ls', SA_DIR])).stdout).toBe('ca.crt\nnamespace\ntoken\n');
    const token = (await knetExec(['client', '--', 'cat', `${SA_DIR}/token`])).stdout;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { 'kubernetes.io': { pod: { name: string }; warnafter: number } };
    expect(claims['kubernetes.io'].pod.name).toBe('client');
    expect(claims['kubernetes.io'].warnafter).toBeGreaterThan(0);
    expect((await curl('/api/v1/namespaces/default/pods/client', token)).code).toBe(200);
    expect((await knetExec(['client', '--', 'printenv', 'KUBERNETES_SERVICE_HOST'])).stdout).toBe(`${cluster.config.kubernetesServiceIP}\n`);
    expect((await knetExec(['client', '--', 'printenv', 'KUBERNETES_SERVICE_PORT'])).stdout).toBe('443\n');
    // automountServiceAccountToken: false: nothing there.
    expect((await knetExec(['sealed', '--', 'ls', SA_DIR])).code).not.toBe(0);
  });

  it("a pod's own program lists Services through @kubernetes/client-node's loadFromDefault()", async () => {
    await cluster.apply(LISTER);
    const log = await cluster.waitFor(async () => {
      const text = await cluster.logs('lister', { namespace: 'shop' });
      return /^(listed|failed)/m.test(text) ? text : false;
    }, { what: 'the lister program to report', detail: () => cluster.logs('lister', { namespace: 'shop' }) });
    const cart = (await cluster.get<{ spec: { clusterIP: string } }>('service', 'cart', 'shop'))!;
    expect(log).toContain(`service cart ${cart.spec.clusterIP}\n`);
    expect(log).toContain(`listed 1 services in shop from https://${cluster.config.kubernetesServiceIP}:443\n`);
  });
});
