/**
 * A headless service over 300 real pods (a Deployment on the default 2 nodes): the A answer
 * is too big for UDP, so the server sets TC and `dig` retries over TCP, where every ready pod
 * is answered.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { dig as digAt } from '../component/dns/support.js';

const PODS = 300;
const NAME = 'many.default.svc.cluster.local';
let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({ components: { ingress: false }, config: { dnsUpstream: null } });
  await cluster.apply(
    `apiVersion: apps/v1
kind: Deployment
metadata: { name: many }
spec:
  replicas: ${PODS}
  selector: { matchLabels: { app: many } }
  template:
    metadata: { labels: { app: many } }
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{ name: http, containerPort: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: many }
spec:
  clusterIP: None
  selector: { app: many }
  ports: [{ name: http, port: 80 }]
`,
    { timeoutMs: 240_000 },
  );
}, 300_000);

afterAll(async () => {
  await cluster?.close();
}, 60_000);

const dig = (args: string[]) => digAt({ address: cluster.dnsServer.host, port: cluster.dnsServer.port }, args);

it(`answers all ${PODS} pods of a headless service over TCP after a truncated UDP answer`, async () => {
  const ips = await cluster.waitForEndpoints('many', PODS, 'default', 60_000);
  const nodes = new Set(((await cluster.get('pods')) as Array<{ spec?: { nodeName?: string } }>).map((p) => p.spec?.nodeName));
  expect(nodes).toEqual(new Set(['node-1', 'node-2']));
  // UDP alone (+ignore: do not retry): truncated, TC set, the records that fit.
  const udp = await dig(['+notcp', '+ignore', NAME, 'A']);
  expect(udp.status).toBe('NOERROR');
  expect(udp.flags).toContain('tc');
  expect(udp.answer.length).toBeGreaterThan(0);
  expect(udp.answer.length).toBeLessThan(PODS);
  // dig's default: sees TC, asks again over TCP, gets everything.
  const retried = await dig([NAME, 'A']);
  expect(retried.raw).toMatch(/Truncated, retrying in TCP mode/);
  expect(retried.flags).not.toContain('tc');
  expect(retried.answer.map((l) => l.split(' ')[4]).sort()).toEqual(ips);
  const tcp = await dig(['+tcp', NAME, 'A']);
  expect(tcp.answer).toHaveLength(PODS);
  // SRV per endpoint too, over TCP.
  const srv = await dig(['+tcp', `_http._tcp.${NAME}`, 'SRV']);
  expect(srv.answer).toHaveLength(PODS);
}, 120_000);
