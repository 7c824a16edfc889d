/**
 * The reliability probes of issue #18, measured on a cluster run as `knet up` runs it (one
 * process per component):
 *   1. half-close storm: --clients (2,000) HTTP clients at once, each writing its request and
 *      then shutting down its write side, --rounds (4) times straight to a pod, through the
 *      ClusterIP and through the NodePort; per round the outcomes and what the kernel counted
 *      meanwhile in /proc/net/netstat (accept-queue overflows, SYN cookies sent and failed:
 *      a failed cookie is a reset the proxy never sees);
 *   2. rollout restarts under load: --restarts (20) `rollout restart`s of 3 agnhost pods while
 *      --load (8) clients open a connection per request, once with pods that exit at SIGTERM
 *      (netexec as the quickstart runs it) and once with pods that serve 2 s past it
 *      (--delay-shutdown=2); the outcomes (an empty reply told apart from a reset) and the
 *      proxy's reset and failed-connect counters.
 *
 *   npm run build && node --import ./test/bench/dns/register.mjs test/bench/proxy/resets.ts \
 *     [-- --clients 2000 --rounds 4 --restarts 20 --load 8 --out FILE]
 *
 * Prints the results and writes them as JSON (test/bench/results/proxy-resets.json).
 */
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nodeIP } from '../../../dataplane/base/cluster-config.js';
import { startCluster, type KnetCluster } from '../../../dataplane/testing/index.js';
import { halfClosedStorm } from '../../support/half-close-storm.js';
import { OutcomeTally, rawRequest } from '../../support/raw-http.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const CLIENTS = Number(args.get('clients') ?? 2000);
const ROUNDS = Number(args.get('rounds') ?? 4);
const RESTARTS = Number(args.get('restarts') ?? 20);
const LOAD = Number(args.get('load') ?? 8);
const OUT = args.get('out') ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'proxy-resets.json');

const KERNEL = ['ListenOverflows', 'SyncookiesSent', 'SyncookiesFailed'] as const;

function netstat(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const out: Record<string, number> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const keys = lines[i]!.split(' ');
    const values = lines[i + 1]!.split(' ');
    for (let j = 1; j < keys.length; j++) out[keys[j]!] = Number(values[j]);
  }
  return out;
}

function manifests(delayShutdown: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec, --http-port=8080, --udp-port=8081, --delay-shutdown=${delayShutdown}]
        ports: [{ name: http, containerPort: 8080 }, { name: udp, containerPort: 8081, protocol: UDP }]
        readinessProbe:
          httpGet: { path: /healthz, port: http }
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;
}

/** The proxy's log lines saying a service port's listeners closed for want of an endpoint (clients refused). */
function listenerClosures(cluster: KnetCluster): string[] {
  const file = join(cluster.stateDir, 'logs', 'proxy.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('no usable endpoint') && l.includes('default/web:'));
}

async function proxyCounters(cluster: KnetCluster): Promise<string[]> {
  const text = await fetch(`http://${nodeIP(cluster.config, 1)}:10249/metrics`).then((r) => r.text());
  return text.split('\n').filter((l) => /^knet_proxy_(resets_total|connections_failed_total)\{/.test(l));
}

interface StormRound {
  target: string;
  round: number;
  outcomes: Record<string, number>;
  resetPercent: number;
  ms: number;
  kernel: Record<string, number>;
}

async function storms(): Promise<StormRound[]> {
  const cluster = await startCluster({ mode: 'processes', components: { dns: false, ingress: false }, manifests: manifests(0) });
  const rounds: StormRound[] = [];
  try {
    const [pod] = ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === 'web');
    const targets: Array<[string, { host: string; port: number }]> = [
      ['pod', { host: pod!.status!.podIP!, port: 8080 }],
      ['ClusterIP', await cluster.serviceAddress('web', 'http')],
      ['NodePort', await cluster.serviceAddress('web', 'http', { type: 'NodePort' })],
    ];
    for (const [target, { host, port }] of targets) {
      for (let round = 1; round <= ROUNDS; round++) {
        const before = netstat();
        const t = performance.now();
        const { outcomes } = await halfClosedStorm(host, port, CLIENTS);
        const after = netstat();
        const kernel = Object.fromEntries(KERNEL.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
        const resets = outcomes.ECONNRESET ?? 0;
        const r = { target, round, outcomes, resetPercent: Math.round((resets / CLIENTS) * 1000) / 10, ms: Math.round(performance.now() - t), kernel };
        rounds.push(r);
        console.log(`half-close storm ${target.padEnd(9)} round ${round}: ${JSON.stringify(outcomes)} (${r.resetPercent} % reset) in ${r.ms} ms; kernel ${JSON.stringify(kernel)}`);
      }
    }
    console.log(`  proxy counters: ${(await proxyCounters(cluster)).join('; ') || 'none'}`);
  } finally {
    await cluster.close();
  }
  return rounds;
}

interface RolloutRun {
  delayShutdown: number;
  restarts: number;
  requests: number;
  seconds: number;
  outcomes: Record<string, number>;
  proxy: string[];
  /** Listener closures during the restarts (the one before the pods first got ready excluded). */
  listenerClosures: string[];
}

async function rollouts(delayShutdown: number): Promise<RolloutRun> {
  const cluster = await startCluster({ mode: 'processes', components: { dns: false, ingress: false }, manifests: manifests(delayShutdown) });
  try {
    const { host, port } = await cluster.serviceAddress('web', 'http');
    const tally = new OutcomeTally();
    let stop = false;
    const load = Promise.all(
      Array.from({ length: LOAD }, async () => {
        while (!stop) tally.add(await rawRequest(host, port, { timeoutMs: 10_000 }));
      }),
    );
    const webPods = async () => ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.app === 'web');
    const closedBefore = listenerClosures(cluster).length;
    const t0 = performance.now();
    for (let r = 0; r < RESTARTS; r++) {
      const before = new Set((await webPods()).map((p) => p.metadata!.name!));
      await cluster.store.mutate('Deployment', 'default', 'web', (d) => {
        const spec = d.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
        const meta = spec.template.metadata ?? {};
        return { ...d, spec: { ...spec, template: { ...spec.template, metadata: { ...meta, annotations: { ...meta.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
      });
      await cluster.waitFor(
        async () => {
          const pods = await webPods();
          const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
          return pods.length === 3 && ready.length === 3 && pods.every((p) => !before.has(p.metadata!.name!));
        },
        { what: 'the rollout', kinds: ['Pod'], timeoutMs: 60_000 },
      );
    }
    stop = true;
    await load;
    const run = {
      delayShutdown,
      restarts: RESTARTS,
      requests: tally.total,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      outcomes: tally.outcomes,
      proxy: await proxyCounters(cluster),
      listenerClosures: listenerClosures(cluster).slice(closedBefore),
    };
    console.log(`rollout restarts, --delay-shutdown=${delayShutdown}: ${RESTARTS} restarts, ${run.requests} requests in ${run.seconds} s: ${JSON.stringify(run.outcomes)}`);
    console.log(`  proxy counters: ${run.proxy.join('; ') || 'none'}`);
    for (const l of run.listenerClosures) console.log(`  listeners closed: ${l}`);
    return run;
  } finally {
    await cluster.close();
  }
}

const started = new Date().toISOString();
const load = loadavg();
const halfClose = await storms();
const rollout = [await rollouts(0), await rollouts(2)];
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify({ started, loadavg: load, clients: CLIENTS, halfClose, rollout }, null, 2) + '\n');
console.log(`written to ${OUT}`);
