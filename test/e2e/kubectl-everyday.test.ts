/**
 * A kubectl user's everyday commands against knet, compared with what they print against a real
 * 1.32 cluster (kubectl describes client-side: what matters is that the objects and Events are
 * shaped as a real cluster stores them). Each case here failed before knet did it upstream's way.
 */
import { describe, expect, it } from 'vitest';
import type { Event } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
const { ok, kubectl } = kubectlCluster({ manifests: 'examples/quickstart' }, { started: (k) => ({ cluster } = k), timeoutMs: 120_000 });
const firstPod = async () => (await ok('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
/** The lines of a `kubectl describe` section, up to the next unindented line. */
const section = (text: string, title: string) => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${title}:`));
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
  return lines.slice(start, end < 0 ? undefined : end);
};

describe('kubectl describe pod', () => {
  it('lists Events from default-scheduler and kubelet, in the order they happened', async () => {
    const pod = await firstPod();
    await cluster.waitFor(async () => (await ok('get', 'events', '--field-selector', `involvedObject.name=${pod},reason=Started`, '-o', 'name')).trim() !== '', `pod ${pod} has its Started event`);
    const events = section(await ok('describe', 'pod', pod), 'Events').slice(3).filter((l) => l.trim() !== '');
    const rows = events.map((l) => l.trim().split(/\s{2,}/));
    expect(rows.map((r) => [r[1], r[3]])).toEqual([
      ['Scheduled', 'default-scheduler'],
      ['Pulled', 'kubelet'],
      ['Created', 'kubelet'],
      ['Started', 'kubelet'],
    ]);
  });

  it('shows the default tolerations, the QoS class and the conditions in the kubelet order', async () => {
    const text = await ok('describe', 'pod', await firstPod());
    expect(section(text, 'Tolerations').map((l) => l.replace(/^Tolerations:/, '').trim())).toEqual([
      'node.kubernetes.io/not-ready:NoExecute op=Exists for 300s',
      'node.kubernetes.io/unreachable:NoExecute op=Exists for 300s',
    ]);
    expect(text).toMatch(/^QoS Class:\s+BestEffort$/m);
    expect(section(text, 'Conditions').slice(2).map((l) => l.trim().split(/\s+/)[0])).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  });

  it('stores the fields a 1.32 apiserver stores: priority, preemptionPolicy, no metadata.generation', async () => {
    const pod = JSON.parse(await ok('get', 'pod', await firstPod(), '-o', 'json')) as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status: Record<string, unknown> };
    expect(pod.metadata).not.toHaveProperty('generation');
    expect(pod.spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect(pod.status).toMatchObject({ phase: 'Running', qosClass: 'BestEffort' });
    expect(JSON.parse(await ok('get', 'deploy', 'web', '-o', 'json')).metadata.generation).toBe(1);
    const svc = JSON.parse(await ok('get', 'svc', 'web', '-o', 'json'));
    expect(svc.metadata).not.toHaveProperty('generation');
    expect(svc.status).toEqual({ loadBalancer: {} });
  });
});

describe('kubectl get events', () => {
  it('-o wide names the container (SUBOBJECT) and the reporter with its host (SOURCE)', async () => {
    const pod = await firstPod();
    const table = await ok('get', 'events', '-o', 'wide', '--field-selector', `involvedObject.name=${pod}`);
    expect(table).toMatch(new RegExp(`pod/${pod}\\s+spec\\.containers\\{agnhost\\}\\s+kubelet, node-\\d\\s+Started container agnhost`));
    expect(table).toMatch(/Scheduled\s+pod\/\S+\s+default-scheduler, default-scheduler-\S+\s+Successfully assigned/);
    const rsEvents = await ok('get', 'events', '-o', 'wide', '--field-selector', 'involvedObject.kind=ReplicaSet');
    expect(rsEvents).toMatch(/SuccessfulCreate\s+replicaset\/web-\S+\s+replicaset-controller\s+Created pod:/);
  });

  it('stores the events as their recorders do: kubelet source and reporting instance, the scheduler through events.k8s.io', async () => {
    const pod = await firstPod();
    const list = JSON.parse(await ok('get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'json')) as { items: Event[] };
    const started = list.items.find((e) => e.reason === 'Started')!;
    expect(started).toMatchObject({ source: { component: 'kubelet', host: expect.stringMatching(/^node-/) }, reportingComponent: 'kubelet', reportingInstance: started.source!.host, count: 1 });
    expect(started.involvedObject).toMatchObject({ kind: 'Pod', name: pod, fieldPath: 'spec.containers{agnhost}', resourceVersion: expect.any(String) });
    const scheduled = list.items.find((e) => e.reason === 'Scheduled')!;
    expect(scheduled).toMatchObject({ action: 'Binding', reportingComponent: 'default-scheduler', source: {} });
    expect(scheduled.eventTime).toMatch(/\.\d{6}Z$/);
    // The store lists an object's events by name, and the names follow time (the kubelet's, from
    // one process, strictly; the scheduler's is written by another process, close in time).
    expect(list.items.filter((e) => e.source?.component === 'kubelet').map((e) => e.reason)).toEqual(['Pulled', 'Created', 'Started']);
  });
});

describe('kubectl describe node and namespace', () => {
  it("a node's conditions, capacity and versions are a kubelet's", async () => {
    const text = await ok('describe', 'node', 'node-1');
    expect(section(text, 'Conditions').slice(3).map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual(['MemoryPressure False', 'DiskPressure False', 'PIDPressure False', 'Ready True']);
    expect(section(text, 'Capacity').slice(1).map((l) => l.trim().split(':')[0])).toEqual(['cpu', 'ephemeral-storage', 'hugepages-1Gi', 'hugepages-2Mi', 'memory', 'pods']);
    expect(text).toMatch(/Kubelet Version:\s+v1\.32\.\d+/);
    expect(text).toMatch(/Allocated resources:[\s\S]*hugepages-2Mi\s+0 \(0%\)\s+0 \(0%\)/);
    expect((await ok('get', 'nodes')).split('\n')[1]).toMatch(/^node-1\s+Ready\s+<none>\s+\S+\s+v1\.32\.\d+/);
  });

  it("shows the node's Lease, which the node renews; the leader leases are in kube-system", async () => {
    const lease = section(await ok('describe', 'node', 'node-1'), 'Lease');
    expect(lease[0]).toBe('Lease:');
    expect(lease[1]).toMatch(/^\s+HolderIdentity:\s+node-1$/);
    expect(lease[2]).toMatch(/^\s+AcquireTime:\s+<unset>$/);
    expect(lease[3]).toMatch(/^\s+RenewTime:\s+\w{3}, \d\d \w{3} \d{4} /);
    const leases = await ok('get', 'leases', '-A');
    expect(leases).toMatch(/^kube-node-lease\s+node-1\s+node-1\s+\d+s$/m);
    expect(leases).toMatch(/^kube-system\s+kube-controller-manager\s+\S+_[0-9a-f-]{36}\s+/m);
    expect(leases).toMatch(/^kube-system\s+kube-scheduler\s+/m);
  });

  it("the control plane's own objects carry no kubectl last-applied annotation (kubeadm creates them)", async () => {
    for (const [kind, name, ns] of [['ns', 'default', 'default'], ['svc', 'kubernetes', 'default'], ['svc', 'kube-dns', 'kube-system']] as const) {
      const o = JSON.parse(await ok('get', kind, name, '-n', ns, '-o', 'json'));
      expect(o.metadata.annotations ?? {}).not.toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    }
  });

  it('a namespace is Active with the kubernetes finalizer', async () => {
    expect(await ok('describe', 'ns', 'default')).toMatch(/^Status:\s+Active$/m);
    await ok('create', 'namespace', 'everyday');
    const ns = JSON.parse(await ok('get', 'ns', 'everyday', '-o', 'json'));
    expect(ns).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    await ok('label', 'ns', 'everyday', 'team=a');
    expect(JSON.parse(await ok('get', 'ns', 'everyday', '-o', 'json')).spec.finalizers).toEqual(['kubernetes']);
  });
});

describe('kubectl auth', () => {
  it('can-i answers yes for everything (authorization allows every authenticated user)', async () => {
    expect(await ok('auth', 'can-i', 'create', 'pods')).toBe('yes\n');
    expect(await ok('auth', 'can-i', 'delete', 'deployments', '-n', 'kube-system')).toBe('yes\n');
    expect(await ok('auth', 'can-i', 'get', '/healthz')).toBe('yes\n');
    expect((await ok('auth', 'can-i', '--list')).split('\n').slice(0, 3).map((l) => l.trim().split(/\s+/))).toEqual([
      ['Resources', 'Non-Resource', 'URLs', 'Resource', 'Names', 'Verbs'],
      ['*.*', '[]', '[]', '[*]'],
      ['[*]', '[]', '[*]'],
    ]);
  });

  it('whoami names the admin, and a service account by its token', async () => {
    const me = await ok('auth', 'whoami');
    expect(me).toMatch(/^Username\s+kubernetes-admin$/m);
    expect(me).toMatch(/^Groups\s+\[system:masters system:authenticated\]$/m);
    await ok('create', 'serviceaccount', 'everyday-sa');
    const token = (await ok('create', 'token', 'everyday-sa')).trim();
    expect(await ok('auth', 'whoami', `--token=${token}`)).toMatch(/^Username\s+system:serviceaccount:default:everyday-sa$/m);
  });

  it('--as impersonates (every impersonation is allowed, as under AlwaysAllow)', async () => {
    const jane = await ok('auth', 'whoami', '--as=jane', '--as-group=dev');
    expect(jane).toMatch(/^Username\s+jane$/m);
    expect(jane).toMatch(/^Groups\s+\[dev system:authenticated\]$/m);
    expect(await ok('auth', 'can-i', 'delete', 'pods', '--as=system:serviceaccount:default:everyday-sa')).toBe('yes\n');
  });
});

describe('kubectl get componentstatuses', () => {
  it('lists the control plane healthy, with the deprecation warning a 1.32 server sends', async () => {
    const r = await kubectl(['get', 'cs']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: v1 ComponentStatus is deprecated in v1.19+');
    expect(r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([
      ['NAME', 'STATUS', 'MESSAGE', 'ERROR'],
      ['scheduler', 'Healthy', 'ok'],
      ['controller-manager', 'Healthy', 'ok'],
      ['etcd-0', 'Healthy', 'ok'],
    ]);
  });
});

describe('kubectl get --raw', () => {
  it('/livez, /readyz?verbose and a single check, as the apiserver answers them', async () => {
    expect(await ok('get', '--raw', '/livez')).toBe('ok');
    const ready = await ok('get', '--raw', '/readyz?verbose');
    expect(ready).toContain('[+]etcd ok\n');
    expect(ready).toContain('[+]informer-sync ok\n');
    expect(ready.trim().split('\n').pop()).toBe('readyz check passed');
    expect(await ok('get', '--raw', '/readyz/etcd')).toBe('ok');
  });

  it('/metrics in Prometheus text', async () => {
    expect(await ok('get', '--raw', '/metrics')).toMatch(/^apiserver_storage_objects\{resource="pods"\} \d+$/m);
  });
});
