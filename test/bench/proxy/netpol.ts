/**
 * NetworkPolicy's two speed goals (issue #17), as rows of the proxy bench or alone:
 *
 *  1. the cost of one policy check with 100 policies (10 namespaces × 10 policies, 1,000 pods),
 *     on the path every connection takes (PolicyEnforcer.allows, the verdict remembered) and on
 *     the first check of a (source, destination, port) — goal < 1 µs per connection;
 *  2. a policy change reaching enforcement, through the real data plane (store write → watch →
 *     the node agent's PolicyWorld → the pod's listener; and through kube-proxy to a ClusterIP):
 *     a policy switched from admitting a client pod to denying it (a store write), then new
 *     connections from the client until one is not answered (the latency is when that connection
 *     was opened), then switched back and new connections until one is answered — goal p99 < 20 ms.
 *
 *   node --import ./test/bench/dns/register.mjs test/bench/proxy/netpol.ts [--changes 100]
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Registry } from 'prom-client';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { PolicyWorld } from '../../../dataplane/base/netpol/policy-world.js';
import { PolicyEnforcer } from '../../../dataplane/base/netpol/enforcer.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { startCluster, type KnetCluster } from '../../../dataplane/testing/index.js';
import { deleteObject } from '../../../dataplane/base/admission/writes.js';

export interface CheckCost {
  policies: number;
  pods: number;
  /** ns per check, the verdict remembered (every connection after the first of its kind). */
  cachedNs: number;
  /** ns per check when nothing is remembered for the two addresses (the first connection of a source, destination and port). */
  firstNs: number;
  /** The same when every pod is unlike every other (no two share an identity): decide() runs for each. */
  firstUnlikeNs: number;
  /** ns per check without any policy (enforcing false). */
  noPolicyNs: number;
  /** The same three in this process's CPU time (user + system), which other programs' load moves less than the clock. */
  cpu: { cachedNs: number; firstNs: number; firstUnlikeNs: number; noPolicyNs: number };
}

export interface ChangeToEnforcement {
  samples: number;
  denyP50ms: number;
  denyP99ms: number;
  allowP50ms: number;
  allowP99ms: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/**
 * 100 policies in 10 namespaces of 100 pods, as labelled workloads with a mix of rule kinds:
 * ten workloads a namespace, so pods alike share verdicts (identity.ts); and the same cluster with
 * every pod unlike any other (a label of its own), so every first check runs decide().
 */
export function policyCheckCost(): CheckCost {
  const alike = policyBench(false);
  const noPolicy = alike.loop(1_000_000, (i) => alike.hot[i % alike.hot.length]!, true);
  addPolicies(alike.informers);
  alike.loop(200_000, (i) => alike.hot[i % alike.hot.length]!);
  const cached = alike.loop(2_000_000, (i) => alike.hot[i % alike.hot.length]!);
  const first = alike.loop(100_000, alike.distinct);
  const unlike = policyBench(true);
  addPolicies(unlike.informers);
  const firstUnlike = unlike.loop(100_000, unlike.distinct);
  return {
    policies: 100,
    pods: 1000,
    cachedNs: cached.ns,
    firstNs: first.ns,
    firstUnlikeNs: firstUnlike.ns,
    noPolicyNs: noPolicy.ns,
    cpu: { cachedNs: cached.cpuNs, firstNs: first.cpuNs, firstUnlikeNs: firstUnlike.cpuNs, noPolicyNs: noPolicy.cpuNs },
  };
}

export function policyBench(unlike: boolean) {
  const informers = new MemoryInformerFactory();
  const enforcer = new PolicyEnforcer(new PolicyWorld(informers), 'bench', silentLogger, new Registry());
  const ips: string[] = [];
  for (let n = 0; n < 10; n++) {
    informers.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}`, labels: { 'kubernetes.io/metadata.name': `ns${n}`, team: `t${n % 3}` } } } as KObject);
    for (let i = 0; i < 100; i++) {
      const ip = `127.70.${n}.${i + 2}`;
      ips.push(ip);
      informers.upsert({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: `ns${n}`, name: `p${i}`, labels: { app: `app${i % 10}`, tier: i % 2 ? 'web' : 'db', ...(unlike ? { pod: `p${i}` } : {}) } },
        spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
        status: { phase: 'Running', podIP: ip },
      } as KObject);
    }
  }
  /** `checks` checks of the pairs `pick` names: ns per check by the clock and in CPU time. */
  const loop = (checks: number, pick: (i: number) => [string, string], warm = false) => {
    if (warm) for (let i = 0; i < 200_000; i++) enforcer.allows(...pick(i), 8080, 'TCP');
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    let allowed = 0;
    for (let i = 0; i < checks; i++) {
      const [a, b] = pick(i);
      if (enforcer.allows(a, b, 8080, 'TCP')) allowed++;
    }
    if (allowed < 0) throw new Error('unreachable');
    const used = process.cpuUsage(cpu);
    return { ns: Number(process.hrtime.bigint() - start) / checks, cpuNs: ((used.user + used.system) * 1000) / checks };
  };
  const hot: Array<[string, string]> = Array.from({ length: 1000 }, (_, i) => [ips[(i * 7) % ips.length]!, ips[(i * 13 + 5) % ips.length]!]);
  // Every pair once: 1,000 × 100 distinct (source, destination) pairs, none remembered before.
  const distinct = (i: number): [string, string] => [ips[i % 1000]!, ips[(Math.floor(i / 1000) * 10 + (i % 10)) % 1000]!];
  return { informers, loop, hot, distinct };
}

export function addPolicies(informers: MemoryInformerFactory): void {
  for (let n = 0; n < 10; n++) {
    for (let k = 0; k < 10; k++) {
      const spec =
        k === 0
          ? { podSelector: {} }
          : k % 3 === 0
            ? { podSelector: { matchLabels: { app: `app${k}` } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `t${k % 3}` } } }], ports: [{ port: 'http' }] }] }
            : k % 3 === 1
              ? { podSelector: { matchLabels: { tier: 'web' } }, ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [`app${k}`, `app${k + 1}`] }] } }], ports: [{ port: 8080, endPort: 8090 }] }] }
              : { podSelector: { matchLabels: { app: `app${k}` } }, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '127.70.0.0/16', except: [`127.70.${k}.0/24`] } }] }], egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: 'db' } } }] }] };
      informers.upsert(applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: `ns${n}`, name: `pol${k}` }, spec } as KObject));
    }
  }
}

/** Whether an HTTP request from `from` is answered within `waitMs`. */
function answered(from: string, host: string, port: number, waitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress: from });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.on('data', () => done(true));
  });
}

const BENCH_PODS: KObject[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'np-server', labels: { app: 'np-server' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }] }] } } as KObject,
  { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'np-client', labels: { app: 'np-client' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }] }] } } as KObject,
  { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'default', name: 'np-server' }, spec: { selector: { app: 'np-server' }, ports: [{ port: 80, targetPort: 8080 }] } } as KObject,
];

/** How long an unanswered probe is waited for before it counts as denied (answers take ~1 ms here). */
const DENIED_AFTER_MS = 50;

/**
 * Policy switched to deny → a new connection from the client pod is denied, and back → one is
 * answered, `changes` times each, to the pod directly (node agent) or its ClusterIP (kube-proxy).
 */
export async function changeToEnforcement(cluster: KnetCluster, changes: number, via: 'pod' | 'clusterIP'): Promise<ChangeToEnforcement> {
  await cluster.apply(BENCH_PODS);
  const pods = (await cluster.get<Pod & KObject>('Pod', undefined, 'default')) as Array<Pod & KObject>;
  const ip = (name: string) => pods.find((p) => p.metadata?.name === name)!.status!.podIP!;
  const client = ip('np-client');
  const target = via === 'pod' ? { host: ip('np-server'), port: 8080 } : { host: (await cluster.serviceAddress('np-server')).host, port: 80 };
  // One policy on the server, switched between denying everyone and admitting the client.
  const denySpec = { podSelector: { matchLabels: { app: 'np-server' } } };
  const allowSpec = { ...denySpec, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'np-client' } } }] }] };
  await cluster.store.create(applyDefaults({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default', name: 'np-switch' }, spec: allowSpec } as KObject));
  const setSpec = (spec: object) => cluster.store.mutate('NetworkPolicy', 'default', 'np-switch', (p) => applyDefaults({ ...p, spec } as KObject));
  const denyMs: number[] = [];
  const allowMs: number[] = [];
  try {
    for (let i = 0; i < changes; i++) {
      let t0 = process.hrtime.bigint();
      await setSpec(denySpec);
      for (;;) {
        const opened = process.hrtime.bigint();
        // Unanswered twice in a row: a slow answer is not a denial.
        if (!(await answered(client, target.host, target.port, DENIED_AFTER_MS)) && !(await answered(client, target.host, target.port, DENIED_AFTER_MS))) {
          denyMs.push(Math.max(0, Number(opened - t0) / 1e6));
          break;
        }
        if (Number(process.hrtime.bigint() - t0) > 5e9) throw new Error(`policy change ${i} not enforced within 5 s`);
      }
      t0 = process.hrtime.bigint();
      await setSpec(allowSpec);
      for (;;) {
        if (await answered(client, target.host, target.port, 1000)) {
          allowMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          break;
        }
        if (Number(process.hrtime.bigint() - t0) > 5e9) throw new Error(`policy change ${i} back to allowing not enforced within 5 s`);
      }
    }
  } finally {
    await deleteObject(cluster.store, 'NetworkPolicy', 'default', 'np-switch', { gracePeriodSeconds: 0 });
  }
  denyMs.sort((a, b) => a - b);
  allowMs.sort((a, b) => a - b);
  return { samples: changes, denyP50ms: percentile(denyMs, 50), denyP99ms: percentile(denyMs, 99), allowP50ms: percentile(allowMs, 50), allowP99ms: percentile(allowMs, 99) };
}

async function main(): Promise<void> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
  const changes = Number(args.get('changes') ?? 100);
  const cost = policyCheckCost();
  if (args.has('check-only')) {
    process.stdout.write(`${JSON.stringify(cost)}\n`);
    return;
  }
  process.stdout.write(`policy check, ${cost.policies} policies, ${cost.pods} pods: remembered ${cost.cachedNs.toFixed(0)} ns, first ${cost.firstNs.toFixed(0)} ns, first with every pod unlike the others ${cost.firstUnlikeNs.toFixed(0)} ns, no policy ${cost.noPolicyNs.toFixed(0)} ns (CPU time: ${cost.cpu.cachedNs.toFixed(0)} / ${cost.cpu.firstNs.toFixed(0)} / ${cost.cpu.firstUnlikeNs.toFixed(0)} / ${cost.cpu.noPolicyNs.toFixed(0)} ns)\n`);
  const cluster = await startCluster({ mode: 'processes', nodes: 1, components: { dns: false, ingress: false } });
  try {
    for (const via of ['pod', 'clusterIP'] as const) {
      const r = await changeToEnforcement(cluster, changes, via);
      process.stdout.write(`policy change → enforced (${via}, ${r.samples}): to deny p50 ${r.denyP50ms.toFixed(1)} ms p99 ${r.denyP99ms.toFixed(1)} ms; to allow p50 ${r.allowP50ms.toFixed(1)} ms p99 ${r.allowP99ms.toFixed(1)} ms\n`);
    }
  } finally {
    await cluster.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
