/**
 * NetworkPolicy egress in the simulated shell: every connection a command opens asks the pod's
 * egress check first (dial-from-pod.ts) and takes its socket from base/netpol's openFromPod,
 * the same one agnhost's /dial uses. An allowed connection comes from the pod IP; a denied one
 * is a dropped SYN (nc's -w timeout fires, the server never sees it), a denied datagram is lost.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { PodSandbox } from '../../../dataplane/node/shell/pod-sandbox.js';
import { runInSandbox } from './run-in-sandbox.js';
import type { EgressCheck } from '../../../dataplane/node/shell/dial-from-pod.js';

const POD_IP = '127.244.1.9';
const container: Container = { name: 'client', image: 'busybox:1.36' };
const pod: Pod = { metadata: { name: 'client', namespace: 'shop', uid: 'u9' }, spec: { containers: [container] }, status: { podIP: POD_IP } };

const peers: string[] = [];
const tcp = net.createServer((s) => {
  peers.push(`${s.remoteAddress}`);
  s.end();
});
const udp = dgram.createSocket('udp4');
const datagrams: string[] = [];
udp.on('message', (m) => datagrams.push(m.toString()));
let allowedPort = 0;
let deniedPort = 0;
let udpPort = 0;

beforeAll(async () => {
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  allowedPort = (tcp.address() as net.AddressInfo).port;
  // A port the policy denies: a second listener, so a connection that got through would show.
  const other = net.createServer((s) => {
    peers.push(`denied:${s.remoteAddress}`);
    s.end();
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  deniedPort = (other.address() as net.AddressInfo).port;
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  udpPort = udp.address().port;
  return () => other.close();
});
afterAll(() => {
  tcp.close();
  udp.close();
});

const egress: EgressCheck = (s, d) => ({ allowed: s.pod.metadata?.name === 'client' && d.port === allowedPort });

async function run(argv: string[], stdin?: string): Promise<{ stdout: string; stderr: string; status: number }> {
  const box = new PodSandbox({
    pod,
    podIP: POD_IP,
    hostIP: '127.18.0.2',
    egress,
    cluster: { clusterDomain: 'cluster.local', dnsServiceIP: '127.96.0.10', dnsPort: () => 53, nodeResolvConf: { nameservers: [], searches: [], options: [] } },
    lookup: { secret: () => undefined, configMap: () => undefined },
  });
  const r = await runInSandbox(box, container, new Map([['HOSTNAME', 'client']]), argv, stdin);
  return { stdout: r.stdout.toString(), stderr: r.stderr, status: r.status };
}

describe('egress from the simulated shell', () => {
  it('lets an allowed connection through, from the pod IP', async () => {
    const r = await run(['nc', '-z', '-v', '-w', '2', '127.0.0.1', String(allowedPort)]);
    expect(r).toMatchObject({ status: 0, stderr: `127.0.0.1 (127.0.0.1:${allowedPort}) open\n` });
    expect(peers).toContain(POD_IP);
  });

  it('drops the SYN of a denied one: nc times out and the server never sees it', async () => {
    const r = await run(['nc', '-z', '-w', '1', '127.0.0.1', String(deniedPort)]);
    expect(r).toEqual({ stdout: '', stderr: 'nc: timeout\n', status: 1 });
    expect(peers.filter((p) => p.startsWith('denied:'))).toEqual([]);
  });

  it('drops denied datagrams', async () => {
    const r = await run(['nc', '-u', '-w', '1', '127.0.0.1', String(udpPort)], 'lost\n');
    expect(r.status).toBe(0);
    expect(datagrams).toEqual([]);
  });
});
