/**
 * Pod affinity, anti-affinity and topology spread through the real kubectl on a 2-node cluster,
 * placed as kind's kube-scheduler would place them: a Deployment of 3 with required
 * anti-affinity on kubernetes.io/hostname runs one pod per node and leaves the third Pending,
 * `kubectl describe pod` showing upstream's FailedScheduling message; a pod with required
 * podAffinity to an existing pod lands on that pod's node; a Deployment of 4 spread with
 * maxSkew 1 (DoNotSchedule) lands 2+2.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

let cluster: KnetCluster;
const { ok, file } = kubectlCluster({ nodes: 2, components: { proxy: false, dns: false, ingress: false } }, { started: (k) => ({ cluster } = k) });

const SLEEPER = `containers: [{ name: shell, image: busybox:1.36, command: [sleep, infinity] }]`;

function deployment(name: string, replicas: number, podSpec: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 0
${podSpec.replace(/^/gm, '      ')}
`;
}

async function podsOf(app: string): Promise<Pod[]> {
  return (JSON.parse(await ok('get', 'pods', '-l', `app=${app}`, '-o', 'json')) as { items: Pod[] }).items;
}

describe('pod affinity, anti-affinity and topology spread (kubectl)', () => {
  it('required anti-affinity on hostname: 2 Running on different nodes, the third Pending with FailedScheduling', async () => {
    await ok(
      'apply',
      '-f',
      file(
        'anti.yaml',
        deployment(
          'anti',
          3,
          `affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
    - labelSelector: { matchLabels: { app: anti } }
      topologyKey: kubernetes.io/hostname
${SLEEPER}`,
        ),
      ),
    );
    const message =
      "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..";
    const pending = await cluster.waitFor(
      async () => {
        const pods = await podsOf('anti');
        const running = pods.filter((p) => p.status?.phase === 'Running');
        const waiting = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.message === message));
        return pods.length === 3 && running.length === 2 && waiting.length === 1 ? { running, waiting: waiting[0]! } : undefined;
      },
      '2 anti pods Running and 1 Unschedulable',
      90_000,
    );
    expect(new Set(pending.running.map((p) => p.spec?.nodeName))).toEqual(new Set(['node-1', 'node-2']));
    expect(pending.waiting.status?.phase).toBe('Pending');
    const described = await ok('describe', 'pod', pending.waiting.metadata!.name!);
    expect(described).toMatch(/Status:\s+Pending/);
    expect(described).toMatch(new RegExp(`Warning\\s+FailedScheduling\\s+.*default-scheduler\\s+${message.replace(/[.()]/g, '\\$&')}`));
    await ok('delete', 'deployment', 'anti', '--wait=false');
  });

  it('required podAffinity to an existing pod: lands on its node', async () => {
    await ok(
      'apply',
      '-f',
      file(
        'affinity.yaml',
        `apiVersion: v1
kind: Pod
metadata: { name: db, labels: { app: db } }
spec:
  nodeSelector: { kubernetes.io/hostname: node-2 }
  terminationGracePeriodSeconds: 0
  ${SLEEPER}
---
apiVersion: v1
kind: Pod
metadata: { name: follower, labels: { app: follower } }
spec:
  terminationGracePeriodSeconds: 0
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: { matchLabels: { app: db } }
        topologyKey: kubernetes.io/hostname
  ${SLEEPER}
`,
      ),
    );
    await ok('wait', '--for=condition=PodScheduled', 'pod/db', 'pod/follower', '--timeout=60s');
    expect(await ok('get', 'pod', 'follower', '-o', 'jsonpath={.spec.nodeName}')).toBe('node-2');
    await ok('delete', 'pod', 'db', 'follower', '--wait=false');
  });

  it('topologySpreadConstraints maxSkew 1 DoNotSchedule: 4 replicas land 2+2', async () => {
    await ok(
      'apply',
      '-f',
      file(
        'spread.yaml',
        deployment(
          'spread',
          4,
          `topologySpreadConstraints:
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: DoNotSchedule
  labelSelector: { matchLabels: { app: spread } }
${SLEEPER}`,
        ),
      ),
    );
    expect(await ok('rollout', 'status', 'deployment/spread', '--timeout=90s')).toContain('successfully rolled out');
    const nodes = (await podsOf('spread')).map((p) => p.spec?.nodeName).sort();
    expect(nodes).toEqual(['node-1', 'node-1', 'node-2', 'node-2']);
  });
});
