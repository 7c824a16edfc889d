/**
 * Workload controllers end to end: the Kubernetes docs' own manifests, StatefulSet ordinals and
 * hostnames, a DaemonSet per node, and a rolling update under a constant stream of requests to
 * the pod IPs the EndpointSlices list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';

let cluster: KnetCluster;
const docs = path.resolve(__dirname, '../unit/model/fixtures/k8s-doc-examples');

beforeAll(async () => {
  cluster = await startCluster({ components: { dns: false, ingress: false, proxy: false } });
});
afterAll(async () => {
  await cluster?.close();
});

const podsOf = async (label: string, value: string) => ((await cluster.get<Pod>('pods')) as Pod[]).filter((p) => p.metadata?.labels?.[label] === value);

describe('manifests from the Kubernetes documentation', () => {
  it('apply unchanged and their pods serve', async () => {
    const files = readdirSync(docs).filter((f) => f.endsWith('.yaml')).map((f) => path.join(docs, f));
    // curlpod.yaml mounts the Secret "nginxsecret", which the docs create beforehand.
    await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nginxsecret', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from('crt').toString('base64'), 'tls.key': Buffer.from('key').toString('base64') } } as never);
    await cluster.apply(files, { timeoutMs: 60_000 });
    for (const p of await podsOf('run', 'my-nginx')) {
      const res = await fetch(`http://${p.status!.podIP}:80/`);
      const body = (await res.json()) as { pod: string; podIP: string };
      expect(body.pod).toBe(p.metadata!.name);
      expect(body.podIP).toBe(p.status!.podIP);
    }
    const backends = await podsOf('app.kubernetes.io/name', 'hello');
    expect(backends.filter((p) => p.metadata?.labels?.tier === 'backend')).toHaveLength(3);
    const [curl] = await podsOf('app', 'curlpod');
    expect(curl?.status?.phase).toBe('Running');
  });
});

describe('StatefulSet', () => {
  it('starts ordinals in order with stable names and hostnames from serviceName', async () => {
    await cluster.apply(`apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 3
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
`);
    const pods = (await podsOf('app', 'db')).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    expect(pods.map((p) => p.metadata?.name)).toEqual(['db-0', 'db-1', 'db-2']);
    const started = pods.map((p) => Date.parse(p.metadata!.creationTimestamp!));
    expect(started[0]! <= started[1]! && started[1]! <= started[2]!).toBe(true);
    for (const p of pods) {
      expect(p.spec?.hostname).toBe(p.metadata?.name);
      expect(p.spec?.subdomain).toBe('db');
      expect(await (await fetch(`http://${p.status!.podIP}:8080/hostname`)).text()).toBe(p.metadata!.name);
    }
    const slices = (await cluster.get('endpointslices')) as Array<{ metadata?: { labels?: Record<string, string> }; endpoints?: Array<{ hostname?: string }> }>;
    const hostnames = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === 'db').flatMap((s) => (s.endpoints ?? []).map((e) => e.hostname));
    expect(hostnames.sort()).toEqual(['db-0', 'db-1', 'db-2']);
  });
});

describe('DaemonSet', () => {
  it('runs one pod on every node', async () => {
    await cluster.apply(`apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=9000"]
`);
    const pods = await podsOf('app', 'agent');
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(['node-1', 'node-2']);
  });
});

describe('rolling update', () => {
  it('never lists a pod that refuses connections, under a constant stream of requests', async () => {
    await cluster.apply(`apiVersion: apps/v1
kind: Deployment
metadata: { name: roll }
spec:
  replicas: 3
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: roll } }
  template:
    metadata: { labels: { app: roll } }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080", "--delay-shutdown=2"]
        readinessProbe: { httpGet: { path: /readyz, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: roll }
spec:
  selector: { app: roll }
  ports: [{ port: 80, targetPort: 8080 }]
`);
    const before = new Set((await podsOf('app', 'roll')).map((p) => p.metadata!.name));
    let stop = false;
    let attempts = 0;
    const refused: string[] = [];
    const connect = (ip: string) =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: ip, port: 8080 });
        s.once('connect', () => {
          s.destroy();
          resolve();
        });
        s.once('error', (err: NodeJS.ErrnoException) => {
          refused.push(`${ip}: ${err.code}`);
          resolve();
        });
      });
    const stream = (async () => {
      while (!stop) {
        const ips = await cluster.readyEndpoints('roll');
        attempts += ips.length;
        await Promise.all(ips.map(connect));
      }
    })();
    await cluster.store.mutate('Deployment', 'default', 'roll', (d) => {
      const spec = d.spec as { template: { metadata?: { annotations?: Record<string, string> } } };
      spec.template.metadata = { ...spec.template.metadata, annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } };
      return d;
    });
    await cluster.waitFor(async () => {
      const now = (await podsOf('app', 'roll')).filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return now.length === 3 && now.every((p) => !before.has(p.metadata!.name)) && (await podsOf('app', 'roll')).length === 3;
    }, 'the rollout to replace all 3 pods', 60_000);
    stop = true;
    await stream;
    expect(attempts).toBeGreaterThan(30);
    expect(refused).toEqual([]);
  });
});
