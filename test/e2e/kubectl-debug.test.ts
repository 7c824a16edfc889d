/**
 * `kubectl debug` against knet as against a cluster (kubectl 1.32): kubectl GETs the pod,
 * PATCHes `pods/NAME/ephemeralcontainers` with a strategic merge patch, waits for the container
 * to run and attaches. The node agent runs each ephemeral container once in the pod's own
 * sandbox — its IP, its DNS, its hostname — so a toolbox reaches the pod's services as the pod.
 */
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { KnetCluster } from '../../dataplane/index.js';
import { AGNHOST_IMAGE, agnhostService, agnhostWorkload } from '../support/agnhost.js';
import { kubectlInTerminal } from '../support/kubectl.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
let env: NodeJS.ProcessEnv;
const { ok, kubectl, file } = kubectlCluster(
  { manifests: [agnhostWorkload({ name: 'web', statefulSet: true }), agnhostService('web')].join('---\n'), components: { ingress: false } },
  { started: (k) => ({ cluster, env } = k) },
);

const pod = async (): Promise<Pod> => (await cluster.get<Pod & { kind: string }>('pod', 'web-0'))!;
const statusOf = (p: Pod, name: string): ContainerStatus | undefined => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);

/** Waits until the ephemeral container's state has `state` (running, terminated); its status then. */
async function waitForState(name: string, state: 'running' | 'terminated'): Promise<ContainerStatus> {
  return cluster.waitFor(async () => {
    const s = statusOf(await pod(), name);
    return s?.state?.[state] ? s : undefined;
  }, `ephemeral container ${name} ${state}`);
}

describe('kubectl debug', () => {
  it('adds a debug container that stands in the pod: its IP, its DNS, its services', async () => {
    expect(await ok('debug', 'web-0', '--image=busybox', '-c', 'dbg', '--', 'sleep', 'infinity')).toBe('');
    await waitForState('dbg', 'running');
    const p = await pod();
    expect(p.spec?.ephemeralContainers).toEqual([
      { name: 'dbg', image: 'busybox', command: ['sleep', 'infinity'], imagePullPolicy: 'Always', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
    ]);
    // The pod's own containers are untouched: its phase and readiness do not count the debugger.
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(statusOf(p, 'dbg')).toMatchObject({ ready: false, restartCount: 0, image: 'busybox' });
    expect(statusOf(p, 'dbg')).not.toHaveProperty('started');

    expect((await ok('exec', 'web-0', '-c', 'dbg', '--', 'hostname', '-i')).trim()).toBe(p.status?.podIP);
    expect((await ok('exec', 'web-0', '-c', 'dbg', '--', 'hostname')).trim()).toBe('web-0');
    // By name through the pod's resolv.conf and the cluster DNS, from the pod's IP.
    expect(await ok('exec', 'web-0', '-c', 'dbg', '--', 'wget', '-qO-', 'http://web/hostname')).toBe('web-0');
    expect(await ok('exec', 'web-0', '-c', 'dbg', '--', 'wget', '-qO-', 'http://web.default.svc.cluster.local/clientip')).toMatch(new RegExp(`^${p.status!.podIP!.replace(/\./g, '\\.')}:\\d+$`));
    expect(await ok('get', 'pod', 'web-0', '-o', 'jsonpath={.status.ephemeralContainerStatuses[*].name} {.status.ephemeralContainerStatuses[0].state.running.startedAt}')).toMatch(/^dbg \d{4}-\d\d-\d\dT/);
  });

  it('a second debugger, with a generated name, another image, a target and a profile', async () => {
    const out = await ok('debug', 'web-0', '--image=nicolaka/netshoot', '--target=agnhost', '--profile=netadmin', '--', 'sleep', 'infinity');
    expect(out).toContain(`Targeting container "agnhost".`);
    const name = /Defaulting debug container name to (debugger-[a-z0-9]{5})\./.exec(out)?.[1];
    expect(name).toBeTruthy();
    await waitForState(name!, 'running');
    expect((await pod()).spec?.ephemeralContainers?.map((c) => [c.name, c.targetContainerName])).toEqual([['dbg', undefined], [name, 'agnhost']]);
    // The netadmin profile's capabilities are stored (a securityContext is allowed), not enforced.
    expect((await pod()).spec?.ephemeralContainers?.[1]?.securityContext?.capabilities?.add).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(await ok('exec', 'web-0', '-c', name!, '--', 'curl', '-s', 'http://web/hostname')).toBe('web-0');
    expect(await ok('exec', 'web-0', '-c', name!, '--', 'nslookup', 'web')).toContain('Name:\tweb.default.svc.cluster.local');
  });

  it('-i attaches to the debugger: stdin in, output out, the exit in its status, logs kept', async () => {
    const r = await kubectl(['debug', '-i', 'web-0', '--image=busybox', '-c', 'once', '--', 'sh'], 'echo hi $((6*7))\nexit 3\n');
    expect(r.stdout).toContain('hi 42\n');
    expect(r.code).toBe(0);
    const s = await waitForState('once', 'terminated');
    expect(s.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(s.restartCount).toBe(0);
    expect(await ok('logs', 'web-0', '-c', 'once')).toBe('hi 42\n');
    // Never restarted: the pod's restartPolicy (Always) is not the debugger's.
    expect(statusOf(await pod(), 'once')?.state?.terminated?.exitCode).toBe(3);
  });

  it('without attaching, then kubectl attach -i', async () => {
    await ok('debug', 'web-0', '--image=busybox', '-c', 'later', '-i', '--attach=false', '--', 'sh');
    await waitForState('later', 'running');
    const r = await kubectl(['attach', '-i', 'web-0', '-c', 'later'], 'echo attached\nexit 4\n');
    expect(r.stdout).toContain('attached\n');
    expect((await waitForState('later', 'terminated')).state?.terminated?.exitCode).toBe(4);
  });

  it('-it gives a terminal in the pod', async () => {
    const term = await kubectlInTerminal(env, ['debug', '-it', 'web-0', '--image=busybox', '-c', 'tty']);
    term.write('echo in $(hostname); exit\r');
    expect(await term.exited).toBe(0);
    expect(term.screen()).toContain('in web-0\r\n');
    expect((await waitForState('tty', 'terminated')).state?.terminated?.exitCode).toBe(0);
  });

  it('describe shows the ephemeral containers', async () => {
    const out = await ok('describe', 'pod', 'web-0');
    const section = out.slice(out.indexOf('Ephemeral Containers:'), out.indexOf('Conditions:'));
    expect(section).toMatch(/^Ephemeral Containers:\n {2}dbg:\n/);
    expect(section).toMatch(/ {4}Image: {10}busybox\n/);
    expect(section).toMatch(/ {4}State: {10}Running\n/);
    expect(section).toMatch(/ {2}once:\n[\s\S]*State: {10}Terminated\n {6}Reason: {7}Error\n {6}Exit Code: {4}3\n/);
    const events = () => ok('get', 'events', '--field-selector', 'involvedObject.name=web-0', '-o', 'jsonpath={range .items[*]}{.involvedObject.fieldPath} {.reason}{"\\n"}{end}');
    await cluster.waitFor(async () => (await events()).includes('spec.ephemeralContainers{dbg} Started'), 'the Started event of dbg');
  });

  it('refuses what the apiserver refuses', async () => {
    const taken = await kubectl(['debug', 'web-0', '--image=busybox', '-c', 'agnhost']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('Pod "web-0" is invalid: spec.ephemeralContainers[');
    expect(taken.stderr).toContain('.name: Duplicate value: "agnhost"');
    const target = await kubectl(['debug', 'web-0', '--image=busybox', '-c', 'x', '--target=nope']);
    expect(target.stderr).toContain('spec.ephemeralContainers[5].targetContainerName: Not found: "nope"');
    // Through the subresource, existing ones may not go; through a plain update, nothing changes them.
    const current = await pod();
    const without = { ...current, spec: { ...current.spec, ephemeralContainers: current.spec!.ephemeralContainers!.slice(1) } };
    const removed = await kubectl(['replace', '--raw', '/api/v1/namespaces/default/pods/web-0/ephemeralcontainers', '-f', file('without.json', JSON.stringify(without))]);
    expect(removed.stderr).toContain('The Pod "web-0" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed');
    // A write through the subresource is a pod update like any: a stale resourceVersion is a conflict.
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' }, spec: { ...current.spec, ephemeralContainers: [...current.spec!.ephemeralContainers!, { name: 'late', image: 'busybox' }] } };
    const conflict = await kubectl(['replace', '--raw', '/api/v1/namespaces/default/pods/web-0/ephemeralcontainers', '-f', file('stale.json', JSON.stringify(stale))]);
    expect(conflict.stderr).toContain('Operation cannot be fulfilled on pods "web-0": the object has been modified');
    const patched = await kubectl(['patch', 'pod', 'web-0', '--type=json', '-p', '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]']);
    expect(patched.stderr).toContain('spec: Forbidden: pod updates may not change fields other than');
    const got = JSON.parse(await ok('get', '--raw', '/api/v1/namespaces/default/pods/web-0/ephemeralcontainers')) as Pod;
    expect([got.kind, got.spec?.ephemeralContainers?.length]).toEqual(['Pod', 5]);
    const discovery = JSON.parse(await ok('get', '--raw', '/api/v1')) as { resources: Array<{ name: string; kind: string; verbs: string[] }> };
    expect(discovery.resources.find((r) => r.name === 'pods/ephemeralcontainers')).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  });

  it("connects as the pod: the pod's egress NetworkPolicy holds for the debugger too", async () => {
    await cluster.apply(`apiVersion: v1
kind: Pod
metadata: { name: db, labels: { app: db } }
spec:
  containers:
  - { name: db, image: ${AGNHOST_IMAGE}, args: [netexec, --http-port=8080] }
`);
    const dbIP = (await cluster.get<Pod & { kind: string }>('pod', 'db'))!.status!.podIP!;
    const dbg = (t: string) => kubectl(['exec', 'web-0', '-c', 'dbg', '--', 'wget', '-qO-', '-T', t, `http://${dbIP}:8080/hostname`]);
    expect(await dbg('5')).toMatchObject({ code: 0, stdout: 'db' });
    await cluster.apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-no-egress }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Egress]
`);
    // A denied connection is a dropped SYN: wget's own timeout ends it.
    await cluster.waitFor(async () => (await dbg('1')).stderr.includes('wget: download timed out'), 'the debugger to be denied as web-0 is');
    await ok('delete', 'networkpolicy', 'web-no-egress');
    await cluster.waitFor(async () => (await dbg('5')).stdout === 'db', 'the debugger to connect again');
  });

  it('the debuggers stop with the pod (sleep ignores SIGTERM: killed at the end of the grace period)', async () => {
    await ok('delete', 'pod', 'web-0', '--grace-period=1');
    // The StatefulSet makes a new web-0, without them.
    const fresh = await cluster.waitFor(async () => {
      const p = await pod();
      return p && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp ? p : undefined;
    }, 'a new web-0');
    expect(fresh.spec?.ephemeralContainers).toBeUndefined();
  });
});
