/**
 * PodDisruptionBudgets acted on, driven with the real kubectl: the disruption controller fills
 * the status `kubectl get pdb` shows, and the eviction subresource — what `kubectl drain` calls —
 * refuses with 429 while the budget allows no disruption and evicts (decrementing it) when it
 * allows one.
 */
import { describe, expect, it } from 'vitest';
import { kubectlCluster } from '../support/kubectl-cluster.js';
import { agnhostWorkload } from '../support/agnhost.js';

const { ok, kubectl, file } = kubectlCluster({ components: { ingress: false, dns: false } });

const budget = (minAvailable: number) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: ${minAvailable}
  selector: {matchLabels: {app: web}}
`;

const eviction = (pod: string) => file(`evict-${pod}.json`, JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } }));
const evict = (pod: string) => kubectl(['create', '--raw', `/api/v1/namespaces/default/pods/${pod}/eviction`, '-f', eviction(pod)]);
const pdbRow = async () => (await ok('get', 'pdb', 'web')).trim().split('\n')[1]!;
const webPods = async () => (await ok('get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}')).trim().split('\n').map((l) => l.split(' ') as [string, string]);

describe('PodDisruptionBudget', () => {
  it('minAvailable 2 of 2 Ready pods: ALLOWED DISRUPTIONS 0, evictions refused with 429, drain fails', async () => {
    await ok('apply', '-f', file('web.yaml', agnhostWorkload({ name: 'web', replicas: 2 })));
    await ok('apply', '-f', file('pdb.yaml', budget(2)));
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    await ok('wait', '--for=jsonpath={.status.currentHealthy}=2', 'pdb/web', '--timeout=30s');
    expect(await pdbRow()).toMatch(/^web\s+2\s+N\/A\s+0\s+\d+s$/);
    const status = JSON.parse(await ok('get', 'pdb', 'web', '-o', 'jsonpath={.status}')) as Record<string, unknown>;
    expect(status).toMatchObject({ currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0, observedGeneration: 1 });
    expect(status.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' })]);

    const [[pod, node]] = await webPods();
    const refused = await evict(pod);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(refused.stderr).toMatch(/TooManyRequests|429|Too Many Requests/);

    const drain = await kubectl(['drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=5s']);
    expect(drain.code).not.toBe(0);
    expect(drain.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(await ok('get', 'node', node, '-o', 'jsonpath={.spec.unschedulable}')).toBe('true');
    await ok('uncordon', node);
    expect((await webPods()).map(([p]) => p)).toContain(pod);
  }, 120_000);

  it('minAvailable 1: ALLOWED DISRUPTIONS 1; an eviction succeeds and uses it up, the next is refused', async () => {
    await ok('apply', '-f', file('pdb1.yaml', budget(1)));
    await ok('wait', '--for=jsonpath={.status.observedGeneration}=2', 'pdb/web', '--timeout=30s');
    await ok('wait', '--for=jsonpath={.status.disruptionsAllowed}=1', 'pdb/web', '--timeout=30s');
    expect(await pdbRow()).toMatch(/^web\s+1\s+N\/A\s+1\s+\d+s$/);
    expect(await ok('get', 'pdb', 'web', '-o', 'jsonpath={.status.conditions[0].reason}')).toBe('SufficientPods');

    // Every node cordoned: the replacement stays Pending, so the budget stays used up.
    const nodes = (await ok('get', 'nodes', '-o', 'name')).trim().split('\n');
    await ok('cordon', ...nodes);
    const [[first], [second]] = await webPods();
    const done = await evict(first);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const next = await evict(second);
    expect(next.code).not.toBe(0);
    expect(next.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    await ok('wait', '--for=delete', `pod/${first}`, '--timeout=60s');
    expect(await pdbRow()).toMatch(/^web\s+1\s+N\/A\s+0\s+\d+s$/);
    expect(await ok('get', 'pdb', 'web', '-o', 'jsonpath={.status.conditions[0].reason}')).toBe('InsufficientPods');

    await ok('uncordon', ...nodes);
    await ok('rollout', 'status', 'deployment/web', '--timeout=60s');
    await ok('wait', '--for=jsonpath={.status.disruptionsAllowed}=1', 'pdb/web', '--timeout=30s');
    expect(await ok('get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptedPods}')).toBe('');
  }, 120_000);

  it('a pod covered by two budgets: the eviction is refused with 500, as upstream', async () => {
    await ok('apply', '-f', file('pdb2.yaml', budget(1).replace('name: web', 'name: web-too')));
    const [[pod]] = await webPods();
    const refused = await evict(pod);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    await ok('delete', 'pdb', 'web-too');
    expect((await webPods()).map(([p]) => p)).toContain(pod);
  }, 60_000);
});
