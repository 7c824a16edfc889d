/**
 * Workloads through the real kubectl against knet's apiserver: a Deployment's rollout history,
 * undo, pause, resume and status; Jobs (parallelism bounded, completions counted, a failing Job
 * hitting its backoffLimit, a FailJob rule of a podFailurePolicy, an Indexed Job's successPolicy)
 * as `kubectl get jobs` shows them; `kubectl run --restart=Never`; and
 * hostNetwork pods on their node's address, the second one with the same port left Pending.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import type { KObject } from '../../dataplane/base/model/object.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
const { ok, kubectl, file } = kubectlCluster({ components: { ingress: false, dns: false } }, { started: (k) => ({ cluster } = k) });
/** `kubectl rollout history` rows: [revision, change-cause]. */
const history = (out: string) => out.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s{2,}/).map((c) => c.trim()));

describe('kubectl rollout', () => {
  it('history, undo, pause and resume a Deployment, with change-causes and revisions as a cluster keeps them', async () => {
    await ok('create', 'deployment', 'app', '--image=nginx:1.26', '--replicas=2');
    await ok('annotate', 'deployment', 'app', 'kubernetes.io/change-cause=first');
    expect(await ok('rollout', 'status', 'deployment/app', '--timeout=60s')).toContain('deployment "app" successfully rolled out');
    await ok('set', 'image', 'deployment/app', 'nginx=nginx:1.27');
    await ok('annotate', 'deployment', 'app', 'kubernetes.io/change-cause=second', '--overwrite');
    expect(await ok('rollout', 'status', 'deployment/app', '--timeout=60s')).toContain('successfully rolled out');
    expect(history(await ok('rollout', 'history', 'deployment/app'))).toEqual([['1', 'first'], ['2', 'second']]);
    expect(await ok('rollout', 'history', 'deployment/app', '--revision=1')).toMatch(/Image:\s+nginx:1\.26/);

    // undo: kubectl copies revision 1's template and annotations back; the controller re-uses its ReplicaSet as revision 3.
    expect(await ok('rollout', 'undo', 'deployment/app')).toContain('deployment.apps/app rolled back');
    expect(await ok('rollout', 'status', 'deployment/app', '--timeout=60s')).toContain('successfully rolled out');
    expect(history(await ok('rollout', 'history', 'deployment/app'))).toEqual([['2', 'second'], ['3', 'first']]);
    const sets = JSON.parse(await ok('get', 'replicasets', '-l', 'app=app', '-o', 'json')) as { items: Array<{ metadata: { annotations: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } }> };
    expect(sets.items).toHaveLength(2);
    const reused = sets.items.find((s) => s.spec.template.spec.containers[0]!.image === 'nginx:1.26')!;
    expect(reused.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(reused.spec.replicas).toBe(2);
    expect(await ok('get', 'deployment', 'app', '-o', 'jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}')).toBe('3');

    // pause: a template change makes no new ReplicaSet, and undo is refused; resume rolls it out.
    expect(await ok('rollout', 'pause', 'deployment/app')).toContain('deployment.apps/app paused');
    await ok('set', 'image', 'deployment/app', 'nginx=nginx:1.28');
    await cluster.waitFor(async () => {
      const d = await cluster.get<Deployment & KObject>('deployment', 'app');
      return d?.status?.conditions?.some((c) => c.type === 'Progressing' && c.status === 'Unknown' && c.reason === 'DeploymentPaused');
    }, 'deployment/app Progressing=Unknown/DeploymentPaused');
    expect(await ok('get', 'replicasets', '-l', 'app=app', '-o', 'name')).toMatch(/^(replicaset\.apps\/\S+\n){2}$/);
    const undo = await kubectl(['rollout', 'undo', 'deployment/app']);
    expect(undo.code).toBe(1);
    expect(undo.stderr).toContain("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again");
    expect(await ok('rollout', 'resume', 'deployment/app')).toContain('deployment.apps/app resumed');
    expect(await ok('rollout', 'status', 'deployment/app', '--timeout=60s')).toContain('successfully rolled out');
    expect(history(await ok('rollout', 'history', 'deployment/app')).map((r) => r[0])).toEqual(['2', '3', '4']);
    expect(await ok('get', 'deployment', 'app', '-o', 'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}')).toBe('NewReplicaSetAvailable');
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    await ok('create', 'deployment', 'short', '--image=nginx:1.25', '--replicas=1');
    await ok('patch', 'deployment', 'short', '--type=merge', '-p', '{"spec":{"revisionHistoryLimit":1}}');
    for (const tag of ['1.26', '1.27', '1.28']) {
      await ok('set', 'image', 'deployment/short', `nginx=nginx:${tag}`);
      await ok('rollout', 'status', 'deployment/short', '--timeout=60s');
    }
    await cluster.waitFor(async () => ((await cluster.get('replicasets', undefined, 'default', { labelSelector: 'app=short' })) as unknown[]).length === 2 || undefined, 'two ReplicaSets of short');
    expect(history(await ok('rollout', 'history', 'deployment/short')).map((r) => r[0])).toEqual(['3', '4']);
  });
});

describe('Jobs', () => {
  it('completions: 5 with parallelism: 2 runs at most 2 pods at once and completes', async () => {
    let maxActive = 0;
    const active = new Map<string, boolean>();
    const track = (p: Pod) => {
      if (p.metadata?.labels?.['job-name'] !== 'work') return;
      const running = !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
      active.set(p.metadata.uid!, running);
      maxActive = Math.max(maxActive, [...active.values()].filter(Boolean).length);
    };
    const stop = cluster.watch<Pod>('Pod', { add: track, update: (_o, p) => track(p), delete: (p) => active.delete(p.metadata!.uid!) });
    try {
      const job = file('work.yaml', `apiVersion: batch/v1
kind: Job
metadata: { name: work }
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: w
        image: busybox
        command: [sh, -c, "echo working on $HOSTNAME; sleep 0.3; echo done"]
`);
      expect(await ok('apply', '-f', job)).toBe('job.batch/work created\n');
      expect(await ok('wait', '--for=condition=complete', 'job/work', '--timeout=90s')).toContain('job.batch/work condition met');
    } finally {
      stop();
    }
    expect(maxActive).toBe(2);
    const table = await ok('get', 'jobs');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$/);
    expect(table).toMatch(/^work\s+Complete\s+5\/5\s+\d+s\s+\d+s$/m);
    expect((await ok('get', 'jobs', '-o', 'wide')).split('\n')[0]).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR$/);
    const pods = JSON.parse(await ok('get', 'pods', '-l', 'batch.kubernetes.io/job-name=work', '-o', 'json')) as { items: Pod[] };
    expect(pods.items).toHaveLength(5);
    for (const p of pods.items) {
      expect(p.metadata!.name).toMatch(/^work-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.status!.phase).toBe('Succeeded');
      expect(p.metadata!.finalizers ?? []).toEqual([]);
    }
    expect(await ok('logs', pods.items[0]!.metadata!.name!)).toBe(`working on ${pods.items[0]!.metadata!.name}\ndone\n`);
    const job = JSON.parse(await ok('get', 'job', 'work', '-o', 'json')) as Job;
    expect(job.status).toMatchObject({ succeeded: 5, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    expect(job.status!.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    expect(Date.parse(job.status!.completionTime!)).toBeGreaterThanOrEqual(Date.parse(job.status!.startTime!));
  });

  it('a failing Job stops at its backoffLimit: Failed, BackoffLimitExceeded', async () => {
    await ok('apply', '-f', file('fail.yaml', `apiVersion: batch/v1
kind: Job
metadata: { name: fail }
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: w, image: busybox, command: [sh, -c, "echo nope; exit 3"] }]
`));
    expect(await ok('wait', '--for=condition=failed', 'job/fail', '--timeout=90s')).toContain('condition met');
    expect(await ok('get', 'jobs', 'fail')).toMatch(/^fail\s+Failed\s+0\/1\s+/m);
    const job = JSON.parse(await ok('get', 'job', 'fail', '-o', 'json')) as Job;
    expect(job.status).toMatchObject({ failed: 3 });
    expect(job.status!.conditions!.map((c) => [c.type, c.reason, c.message])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    expect(await ok('get', 'pods', '-l', 'job-name=fail', '-o', 'jsonpath={.items[*].status.phase}')).toBe('Failed Failed Failed');
    expect(await ok('get', 'events', '--field-selector', 'involvedObject.name=fail,reason=BackoffLimitExceeded', '-o', 'jsonpath={.items[*].message}')).toBe('Job has reached the specified backoff limit');
  });

  it('a pod exiting with a code a FailJob rule names fails the Job at once: reason PodFailurePolicy', async () => {
    await ok('apply', '-f', file('pfp.yaml', `apiVersion: batch/v1
kind: Job
metadata: { name: pfp }
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: { containerName: w, operator: In, values: [3] }
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: w, image: busybox, command: [sh, -c, "exit 3"] }]
`));
    expect(await ok('wait', '--for=condition=failed', 'job/pfp', '--timeout=90s')).toContain('condition met');
    const pod = await ok('get', 'pods', '-l', 'job-name=pfp', '-o', 'jsonpath={.items[*].metadata.name}');
    expect(pod).toMatch(/^pfp-[a-z0-9]{5}$/);
    const message = `Container w for pod default/${pod} failed with exit code 3 matching FailJob rule at index 0`;
    const conditions = await ok('get', 'job', 'pfp', '-o', 'jsonpath={range .status.conditions[*]}{.type}/{.reason}/{.message}{"\\n"}{end}');
    expect(conditions).toBe(`FailureTarget/PodFailurePolicy/${message}\nFailed/PodFailurePolicy/${message}\n`);
    // One pod, no retries despite backoffLimit 6.
    expect(await ok('get', 'job', 'pfp', '-o', 'jsonpath={.status.failed}')).toBe('1');
  });

  it('an Indexed Job with a successPolicy completes once its rule is met, the other pods stopped', async () => {
    await ok('apply', '-f', file('lead.yaml', `apiVersion: batch/v1
kind: Job
metadata: { name: lead }
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  successPolicy:
    rules: [{ succeededIndexes: "0" }]
  template:
    spec:
      restartPolicy: Never
      # sh as PID 1 ignores SIGTERM (as busybox's does): without this the stopped pods take 30 s.
      terminationGracePeriodSeconds: 1
      containers: [{ name: w, image: busybox, command: [sh, -c, 'if [ "$JOB_COMPLETION_INDEX" = 0 ]; then exit 0; fi; sleep 300'] }]
`));
    expect(await ok('wait', '--for=condition=complete', 'job/lead', '--timeout=90s')).toContain('condition met');
    const conditions = await ok('get', 'job', 'lead', '-o', 'jsonpath={range .status.conditions[*]}{.type}/{.reason}/{.message}{"\\n"}{end}');
    expect(conditions).toBe('SuccessCriteriaMet/SuccessPolicy/Matched rules at index 0\nComplete/SuccessPolicy/Matched rules at index 0\n');
    expect(await ok('get', 'job', 'lead', '-o', 'jsonpath={.status.completedIndexes}/{.status.succeeded}/{.status.active}/{.status.terminating}')).toBe('0/1//0');
    // The sleeping indexes were stopped, not left running for 300 s.
    await cluster.waitFor(async () => ((await cluster.get('pods', undefined, 'default', { labelSelector: 'job-name=lead' })) as Pod[]).every((p) => p.metadata?.labels?.['batch.kubernetes.io/job-completion-index'] === '0') || undefined, 'the pods of indexes 1 and 2 to be gone');
  });

  it('an Indexed Job runs one pod per index, named, hostnamed and told its index', async () => {
    await ok('apply', '-f', file('idx.yaml', `apiVersion: batch/v1
kind: Job
metadata: { name: idx }
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: w, image: busybox, command: [sh, -c, 'echo index=$JOB_COMPLETION_INDEX host=$(hostname)'] }]
`));
    expect(await ok('wait', '--for=condition=complete', 'job/idx', '--timeout=90s')).toContain('condition met');
    expect(await ok('get', 'job', 'idx', '-o', 'jsonpath={.status.completedIndexes} {.status.succeeded}')).toBe('0-2 3');
    const pods = JSON.parse(await ok('get', 'pods', '-l', 'job-name=idx', '-o', 'json')) as { items: Pod[] };
    const byIndex = new Map(pods.items.map((p) => [p.metadata!.labels!['batch.kubernetes.io/job-completion-index'], p.metadata!.name!]));
    expect([...byIndex.keys()].sort()).toEqual(['0', '1', '2']);
    for (const [i, name] of byIndex) {
      expect(name).toMatch(new RegExp(`^idx-${i}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(await ok('logs', name)).toBe(`index=${i} host=idx-${i}\n`);
    }
  });

  it('kubectl create job from a CronJob, and deleting a Job deletes its pods', async () => {
    await ok('create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'sh', '-c', 'echo nightly');
    expect(await ok('get', 'cronjobs')).toMatch(/^nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/m);
    expect(await ok('create', 'job', 'now', '--from=cronjob/nightly')).toBe('job.batch/now created\n');
    expect(await ok('wait', '--for=condition=complete', 'job/now', '--timeout=60s')).toContain('condition met');
    expect(await ok('get', 'job', 'now', '-o', 'jsonpath={.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}/{.metadata.ownerReferences[0].kind}')).toBe('manual/CronJob');
    expect(await ok('logs', 'job/now')).toBe('nightly\n');
    expect(await ok('delete', 'job', 'now')).toBe('job.batch "now" deleted\n');
    await cluster.waitFor(async () => ((await cluster.get('pods', undefined, 'default', { labelSelector: 'job-name=now' })) as unknown[]).length === 0 || undefined, 'the pods of job/now to be deleted');
  });
});

describe('kubectl run --restart=Never', () => {
  it('runs the command once: the pod Succeeds and its output is in the logs', async () => {
    expect(await ok('run', 'once', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hello from $HOSTNAME')).toBe('pod/once created\n');
    expect(await ok('wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/once', '--timeout=60s')).toContain('condition met');
    expect(await ok('get', 'pod', 'once')).toMatch(/^once\s+0\/1\s+Completed\s+0\s+/m);
    expect(await ok('logs', 'once')).toBe('hello from once\n');
    await ok('run', 'oops', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'exit 4');
    expect(await ok('wait', '--for=jsonpath={.status.phase}=Failed', 'pod/oops', '--timeout=60s')).toContain('condition met');
    expect(await ok('get', 'pod', 'oops', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode}')).toBe('4');
  });
});

describe('hostNetwork', () => {
  it("listens on its node's IP; a second pod with the same port on that node stays Pending", async () => {
    const hostPod = (name: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  hostNetwork: true
  nodeSelector: { kubernetes.io/hostname: node-1 }
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [netexec, --http-port=18080, --udp-port=-1]
    ports: [{ containerPort: 18080 }]
`;
    await ok('apply', '-f', file('hn1.yaml', hostPod('hn1')));
    await ok('wait', '--for=condition=ready', 'pod/hn1', '--timeout=60s');
    const nodeIP = await ok('get', 'node', 'node-1', '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}');
    expect(await ok('get', 'pod', 'hn1', '-o', 'jsonpath={.status.podIP} {.status.hostIP} {.spec.containers[0].ports[0].hostPort}')).toBe(`${nodeIP} ${nodeIP} 18080`);
    const res = await fetch(`http://${nodeIP}:18080/hostname`);
    expect(await res.text()).toBe('hn1');

    await ok('apply', '-f', file('hn2.yaml', hostPod('hn2')));
    const message = "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling..";
    await cluster.waitFor(async () => (await cluster.events({ for: 'pod/hn2' })).some((e) => e.reason === 'FailedScheduling' && e.message === message) || undefined, 'a FailedScheduling event for pod/hn2');
    expect(await ok('get', 'pod', 'hn2', '-o', 'jsonpath={.status.phase}/{.status.conditions[0].reason}')).toBe('Pending/Unschedulable');
    // Once the first one goes, the port is free and the second one runs there.
    await ok('delete', 'pod', 'hn1');
    await ok('wait', '--for=condition=ready', 'pod/hn2', '--timeout=60s');
    expect(await ok('get', 'pod', 'hn2', '-o', 'jsonpath={.status.podIP}')).toBe(nodeIP);
  });
});
