/**
 * `knet netpol matrix` and `knet netpol why` against a running cluster: pods a and b in
 * namespaces x and y, then x isolated with only y allowed in, as the upstream e2e cases do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { startCluster, type KnetCluster } from '../../dataplane/testing/index.js';
import { kubectl, kubectlEnv } from '../support/kubectl.js';

const exec = promisify(execFile);
let cluster: KnetCluster;

const pods = ['x', 'y'].flatMap((ns) => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
  ...['a', 'b'].map((pod) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name: pod, labels: { pod } },
    spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
  })),
]);

async function knet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, '--redis', cluster.ref.redisUrl, '--cluster', cluster.name], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  cluster = await startCluster({ manifests: pods, components: { proxy: false, dns: false, ingress: false } });
}, 120_000);
afterAll(() => cluster?.close());

describe('knet netpol', () => {
  it('prints everything reachable before any policy', async () => {
    const r = await knet('netpol', 'matrix');
    expect(r.stderr).toBe('');
    const rows = r.stdout.trim().split('\n').slice(2);
    expect(rows.map((l) => l.split(/\s+/).slice(1).join(''))).toEqual(['....', '....', '....', '....']);
  });

  it('shows x isolated, y allowed in, and explains both verdicts', async () => {
    await cluster.apply(
      [
        { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'x', name: 'deny-all' }, spec: { podSelector: {} } },
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { namespace: 'x', name: 'allow-y' },
          spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }], ports: [{ port: 'http' }] }] },
        },
      ],
      { wait: false },
    );
    const r = await knet('netpol', 'matrix', '--port', '8080/TCP');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('reachability at 8080/TCP (rows: from, columns: to; . allowed, X denied, - no port)');
    expect(lines[1]!.split(/\s+/)).toEqual(['from', '\\', 'to', 'x/a', 'x/b', 'y/a', 'y/b']);
    expect(lines.slice(2).map((l) => l.split(/\s+/).join(' '))).toEqual(['x/a X X . .', 'x/b X X . .', 'y/a . . . .', 'y/b . . . .']);

    const denied = await knet('netpol', 'why', 'x/a', 'x/b', '8080');
    expect(denied.stdout).toMatch(/^x\/a \(127\.[\d.]+\) → x\/b \(127\.[\d.]+\) port 8080\/TCP: DENIED$/m);
    expect(denied.stdout).toContain('ingress to x/b: denied: isolated by x/allow-y, x/deny-all; no ingress rule allows it');
    const described = await knet('describe', 'netpol', 'allow-y', '-n', 'x');
    expect(described.stdout).toContain(['  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)', '  Allowing ingress traffic:', '    To Port: http/TCP', '    From:', '      NamespaceSelector: kubernetes.io/metadata.name=y', '  Not affecting egress traffic', '  Policy Types: Ingress'].join('\n'));
    const allowed = await knet('netpol', 'why', 'y/a', 'x/b', '8080/TCP');
    expect(allowed.stdout).toContain('ingress to x/b: allowed by x/allow-y ingress rule 0 (isolated by x/allow-y, x/deny-all)');
    expect(allowed.stdout).toContain('egress of y/a: allowed: not isolated (no policy selects it)');
  });

  it('serves the policies to kubectl: get, describe as knet prints it, apply of the documentation\'s policy, and its validation errors', async () => {
    const env = kubectlEnv(cluster.kubeconfig.path);
    const get = await kubectl(env, ['get', 'netpol', '-n', 'x']);
    expect(get.stderr).toBe('');
    expect(get.stdout.split('\n')[0]).toMatch(/^NAME\s+POD-SELECTOR\s+AGE$/);
    expect(get.stdout).toMatch(/^allow-y\s+<none>\s+\d+s$/m);
    // kubectl describes client-side from the object: knet's own describe must print the same.
    const theirs = await kubectl(env, ['describe', 'netpol', 'allow-y', '-n', 'x']);
    const ours = await knet('describe', 'netpol', 'allow-y', '-n', 'x');
    // (Created on is in kubectl's local time zone.)
    const body = (text: string) => text.trimEnd().split('\n').filter((l) => !l.startsWith('Created on:')).join('\n');
    expect(body(ours.stdout)).toBe(body(theirs.stdout));
    expect(theirs.stdout).toMatch(/^Created on:   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+$/m);
    const applied = await kubectl(env, ['apply', '-f', 'examples/netpol/policy.yaml']);
    expect(applied).toMatchObject({ code: 0, stdout: 'networkpolicy.networking.k8s.io/test-network-policy created\n' });
    const bad = await kubectl(env, ['apply', '-n', 'x', '-f', '-'], 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: bad }\nspec:\n  podSelector: {}\n  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/24, except: [10.1.0.0/24] } }] }]\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The NetworkPolicy "bad" is invalid: spec.ingress[0].from[0].ipBlock.except[0]');
    expect((await knet('get', 'netpol', 'bad', '-n', 'x')).code).toBe(1);
  });

  it('refuses a bad port with the form it wants', async () => {
    const r = await knet('netpol', 'why', 'x/a', 'x/b', '80/ICMP');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: invalid port "80/ICMP": want PORT or PORT/PROTOCOL (TCP, UDP, SCTP), e.g. 80/TCP\n');
  });
});
