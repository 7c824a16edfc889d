/**
 * `containers[].ports[].hostPort` through the real kubectl and curl, as on a kind node with CNI
 * portmap: an agnhost pod on node-1 with hostPort 8081 (TCP → 8080, UDP → 8082) answers on
 * node-1's IP with its identity and sees the client's own address (kubectl and knet describe
 * show the host ports); a pod of node-1 reaching it is masqueraded to the node IP, one of node-2
 * is not; the node agent counts what it forwarded; a NetworkPolicy denying the client's address
 * holds the connection silent (not refused) until a policy allows it; the port is refused once
 * the pod is deleted.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { KnetCluster } from '../../dataplane/index.js';
import { NODE_METRICS_PORT } from '../../dataplane/node/node-metrics.js';
import { AGNHOST_IMAGE } from '../support/agnhost.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';
import { runKnet } from '../support/knet-cli.js';
import { curl, curlFrom, udpAsk } from './proxy-helpers.js';

/** Clients outside the cluster (127.60.0.0/16 is in no cluster's address plan). */
const OUTSIDE = '127.60.5.1';
const OTHER_OUTSIDE = '127.60.5.2';

const manifests = `apiVersion: v1
kind: Pod
metadata: { name: hp, labels: { app: hp } }
spec:
  nodeSelector: { kubernetes.io/hostname: node-1 }
  containers:
  - name: agnhost
    image: ${AGNHOST_IMAGE}
    args: [netexec, --http-port=8080, --udp-port=8082]
    ports:
    - { name: http, containerPort: 8080, hostPort: 8081 }
    - { name: udp, containerPort: 8082, hostPort: 8081, protocol: UDP }
    readinessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 1 }
---
${['near', 'far']
  .map(
    (name, i) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  nodeSelector: { kubernetes.io/hostname: node-${i + 1} }
  containers: [{ name: shell, image: busybox:1.36, command: [sleep, infinity] }]
`,
  )
  .join('---\n')}`;

let cluster: KnetCluster;
let node1: string;
const { ok, file } = kubectlCluster(
  { nodes: 2, components: { proxy: false, dns: false, ingress: false } },
  {
    started: async (k) => {
      cluster = k.cluster;
    },
  },
);

const ip = (pod: string) => ok('get', 'pod', pod, '-o', 'jsonpath={.status.podIP}');
const escaped = (s: string) => s.replaceAll('.', '\\.');
const metrics = async () => (await fetch(`http://${node1}:${NODE_METRICS_PORT}/metrics`)).text();

/** A counter's value on node-1's /metrics for a series whose labels include `labels`, or 0. */
async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await metrics()).split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (wanted.every((l) => line.includes(l))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('host ports (CNI portmap)', () => {
  it('answers on the node IP with the pod, which sees the client; kubectl and knet describe show the host ports', async () => {
    await ok('apply', '-f', file('host-ports.yaml', manifests));
    await ok('wait', '--for=condition=ready', 'pod/hp', 'pod/near', 'pod/far', '--timeout=60s');
    node1 = await ok('get', 'node', 'node-1', '-o', 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}');
    expect(await cluster.waitFor(async () => (await curl(`http://${node1}:8081/hostname`)).body === 'hp' || undefined, 'hp on node-1:8081')).toBe(true);

    const seen = await curlFrom(OUTSIDE, `http://${node1}:8081/clientip`);
    expect(seen.body).toMatch(new RegExp(`^${escaped(OUTSIDE)}:\\d+$`));
    const hostPorts = /\n\s+Ports:\s+8080\/TCP, 8082\/UDP\n\s+Host Ports:\s+8081\/TCP, 8081\/UDP\n/;
    expect(await ok('describe', 'pod', 'hp')).toMatch(hostPorts);
    const knet = await runKnet(['describe', 'pod', 'hp', '--redis', cluster.ref.redisUrl, '--cluster', cluster.name]);
    expect(knet.stdout).toMatch(hostPorts);
  });

  it('UDP is forwarded too, from the client address', async () => {
    expect(await udpAsk(node1, 8081, 'hostname', OUTSIDE)).toBe('hp');
    expect(await udpAsk(node1, 8081, 'clientip', OUTSIDE)).toMatch(new RegExp(`^${escaped(OUTSIDE)}:\\d+$`));
  });

  it("a pod of node-1 is masqueraded to node-1's IP (hairpin); a pod of node-2 is seen as itself", async () => {
    const fromNear = await ok('exec', 'near', '--', 'wget', '-qO-', `http://${node1}:8081/clientip`);
    expect(fromNear).toMatch(new RegExp(`^${escaped(node1)}:\\d+$`));
    const fromFar = await ok('exec', 'far', '--', 'wget', '-qO-', `http://${node1}:8081/clientip`);
    expect(fromFar).toMatch(new RegExp(`^${escaped(await ip('far'))}:\\d+$`));
  });

  it("counts the forwarded connections per pod and port on the node agent's /metrics", async () => {
    const series = { pod: 'default/hp', host_ip: node1, host_port: '8081', container_port: '8080', protocol: 'TCP' };
    const before = await counter('knet_hostport_connections_total', series);
    expect(before).toBeGreaterThanOrEqual(4);
    await curl(`http://${node1}:8081/hostname`);
    expect(await counter('knet_hostport_connections_total', series)).toBe(before + 1);
    expect(await counter('knet_hostport_connections_total', { ...series, container_port: '8082', protocol: 'UDP' })).toBeGreaterThanOrEqual(2);
  });

  it("a NetworkPolicy denying the client's address holds its connection silent (not refused), until a policy allows it", async () => {
    const policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: not-from-outside }
spec:
  podSelector: { matchLabels: { app: hp } }
  ingress: [{ from: [{ ipBlock: { cidr: 0.0.0.0/0, except: [${OUTSIDE}/32] } }] }]
`;
    const denials = () => counter('knet_netpol_denied_total', { policy: 'default/not-from-outside', direction: 'Ingress', component: 'node-1' });
    await ok('apply', '-f', file('policy.yaml', policy));
    // Once node-1 enforces it, the client's connect succeeds and no answer comes: curl times out (28), never refused (7).
    const held = await cluster.waitFor(async () => {
      const r = await curlFrom(OUTSIDE, `http://${node1}:8081/hostname`, '--max-time', '1');
      return r.code !== 0 && r;
    }, 'the policy enforced on node-1');
    expect(held.code).toBe(28);
    expect(await denials()).toBeGreaterThanOrEqual(1);
    // The pod's ingress sees the client's own address: another outside address is still let in.
    expect((await curlFrom(OTHER_OUTSIDE, `http://${node1}:8081/hostname`)).body).toBe('hp');

    // A connection held while the policy stands is answered once it goes, as a retransmitted SYN would be.
    const deniedBefore = await denials();
    const socket = net.connect({ host: node1, port: 8081, localAddress: OUTSIDE });
    const reply = new Promise<string>((resolve, reject) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write('GET /hostname HTTP/1.1\r\nHost: hp\r\nConnection: close\r\n\r\n');
    await cluster.waitFor(async () => (await denials()) > deniedBefore || undefined, 'the held connection counted as denied');
    await ok('delete', 'networkpolicy', 'not-from-outside');
    expect(await reply).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhp$/);
  });

  it('the forward goes with the pod: connection refused once it is deleted', async () => {
    await ok('delete', 'pod', 'hp');
    const r = await curl(`http://${node1}:8081/hostname`);
    expect(r.code).toBe(7);
    expect(await metrics()).not.toContain('pod="default/hp"');
  });
});
