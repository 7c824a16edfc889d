/**
 * NetworkPolicy at emulated pods' own sockets (runtime/pod-ingress.ts), with real sockets and a
 * PolicyWorld fed by an in-memory informer: a denied TCP connection is held silent (nothing read,
 * nothing written) and answered once a policy change allows it, a denied datagram is dropped,
 * agnhost's /dial as a denied pod times out, and every denial is counted per policy.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { PolicyWorld } from '../../../dataplane/base/netpol/policy-world.js';
import { PolicyEnforcer } from '../../../dataplane/base/netpol/enforcer.js';
import { SilentHold } from '../../../dataplane/base/netpol/silent-hold.js';
import { applyDefaults } from '../../../dataplane/base/model/defaults/index.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import type { PodNetpol } from '../../../dataplane/node/runtime/pod-ingress.js';
import { condition, curl, openSocketHandles, podOf, runPod, stopAll, udpAsk, waitFor } from './helpers.js';

// This file's addresses: 127.53.6.0/24. Server .2; clients .3 (app=friend) and .4 (app=stranger); agnhost .5 (app=stranger).
const SERVER = '127.53.6.2';
const FRIEND = '127.53.6.3';
const STRANGER = '127.53.6.4';
const DIALER = '127.53.6.5';
/** Not a pod: outside the cluster (the dialer's own egress policy must not stop the test's request to it). */
const OUTSIDE = '127.53.6.1';

const informers = new MemoryInformerFactory();
const world = new PolicyWorld(informers);
const registry = new Registry();
const hold = new SilentHold();
const netpol: PodNetpol = { enforcer: new PolicyEnforcer(world, 'node-1', silentLogger, registry), hold, proxied: () => false };
world.onChange(() => hold.recheck());

const podObject = (name: string, ip: string, labels: Record<string, string>, ports: Array<{ name: string; containerPort: number; protocol?: string }> = []) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name, labels }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx', ports }] }, status: { phase: 'Running', podIP: ip } }) as KObject;
const onlyFriends = applyDefaults({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace: 'default', name: 'only-friends' },
  spec: { podSelector: { matchLabels: { app: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'friend' } } }] }] },
} as KObject);

async function deniedCount(direction = 'Ingress'): Promise<number> {
  const m = (await registry.getSingleMetric('knet_netpol_denied_total')!.get()).values.find((v) => v.labels.policy === 'default/only-friends' && v.labels.direction === direction);
  return m?.value ?? 0;
}

/** A raw HTTP request from `from`; resolves once connected, with the bytes that arrive later. */
async function rawRequest(from: string, port: number): Promise<{ socket: net.Socket; received: Buffer[]; ended: Promise<void> }> {
  const socket = net.connect({ host: SERVER, port, localAddress: from });
  socket.on('error', () => {});
  await once(socket, 'connect');
  const received: Buffer[] = [];
  socket.on('data', (b: Buffer) => received.push(b));
  const ended = once(socket, 'end').then(() => undefined);
  socket.write(`GET /who HTTP/1.1\r\nHost: server\r\nConnection: close\r\n\r\n`);
  return { socket, received, ended };
}

beforeAll(async () => {
  informers.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } } as KObject);
  informers.upsert(podObject('server', SERVER, { app: 'server' }, [{ name: 'http', containerPort: 8080 }, { name: 'echo', containerPort: 8081, protocol: 'UDP' }]));
  informers.upsert(podObject('friend', FRIEND, { app: 'friend' }));
  informers.upsert(podObject('stranger', STRANGER, { app: 'stranger' }));
  informers.upsert(podObject('dialer', DIALER, { app: 'stranger' }));
  const server = runPod(podOf('server', { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 8080 }, { containerPort: 8081, protocol: 'UDP' }] }] }), SERVER, {}, undefined, { netpol });
  const dialer = runPod(podOf('dialer', { containers: [{ name: 'c', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080'] }] }), DIALER, {}, undefined, { netpol });
  await waitFor('pods started', () => server.latest().containerStatuses[0]?.state?.running && condition(dialer.latest(), 'ContainersReady') !== undefined);
  await waitFor('server listening', async () => (await curl(`http://${SERVER}:8080/`, ['--interface', FRIEND])).status === 200);
});
afterAll(async () => {
  hold.closeAll();
  await stopAll();
});

describe('NetworkPolicy at an emulated pod', () => {
  it('admits everyone while no policy exists', async () => {
    expect((await curl(`http://${SERVER}:8080/`, ['--interface', STRANGER])).status).toBe(200);
    expect((await udpAsk(SERVER, 8081, 'hi', STRANGER))?.reply).toBe('hi');
  });

  it('holds a denied connection silent, serves an allowed one, and answers the held one once a policy change allows it', async () => {
    informers.upsert(onlyFriends);
    const before = await deniedCount();
    const denied = await rawRequest(STRANGER, 8080);
    // The friend's request is accepted after the stranger's and answered; the stranger's never is.
    const friend = await curl(`http://${SERVER}:8080/`, ['--interface', FRIEND]);
    expect(friend.status).toBe(200);
    expect(JSON.parse(friend.body).client).toMatch(new RegExp(`^${FRIEND.replace(/\./g, '\\.')}:`));
    expect(denied.received).toEqual([]);
    expect(denied.socket.destroyed).toBe(false);
    expect(await deniedCount()).toBe(before + 1);
    expect(hold.size).toBe(1);

    informers.remove(onlyFriends);
    await denied.ended;
    const response = Buffer.concat(denied.received).toString('utf8');
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toContain(`"client": "${STRANGER}:`);
    expect(hold.size).toBe(0);
  });

  it('drops a denied datagram and answers an allowed one', async () => {
    informers.upsert(onlyFriends);
    try {
      const before = await deniedCount();
      const fromStranger = udpAsk(SERVER, 8081, 'stranger', STRANGER, 1500);
      expect((await udpAsk(SERVER, 8081, 'friend', FRIEND))?.reply).toBe('friend');
      expect(await fromStranger).toBeUndefined();
      expect(await deniedCount()).toBe(before + 1);
    } finally {
      informers.remove(onlyFriends);
    }
  });

  it("times out agnhost's /dial from a denied pod (TCP: the connect never completes; UDP: dropped), and counts the pod's egress denials", async () => {
    const egress = applyDefaults({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'default', name: 'only-friends' },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'friend' } } }] }] },
    } as KObject);
    informers.upsert(egress);
    try {
      const before = await deniedCount('Egress');
      const [r, u] = await Promise.all([
        curl(`http://${DIALER}:8080/dial?host=${SERVER}&port=8080&request=hostname`, ['--interface', OUTSIDE, '--max-time', '10']),
        curl(`http://${DIALER}:8080/dial?host=${SERVER}&port=8081&request=echo%20hi&protocol=udp`, ['--interface', OUTSIDE, '--max-time', '10']),
      ]);
      expect(JSON.parse(r.body)).toEqual({ errors: [`Get "http://${SERVER}:8080/hostname": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`] });
      expect(JSON.parse(u.body)).toEqual({ errors: [expect.stringMatching(new RegExp(`^reading from udp connection failed\\. err:'read udp ${DIALER.replace(/\./g, '\\.')}:\\d+->${SERVER.replace(/\./g, '\\.')}:8081: i/o timeout'$`))] });
      expect(await deniedCount('Egress')).toBe(before + 2);
    } finally {
      informers.remove(egress);
    }
    const ok = await curl(`http://${DIALER}:8080/dial?host=${SERVER}&port=8080&request=hostname`, ['--interface', OUTSIDE]);
    expect(JSON.parse(ok.body).responses[0]).toContain('"pod": "server"');
    const okUdp = await curl(`http://${DIALER}:8080/dial?host=${SERVER}&port=8081&request=echo%20hi&protocol=udp`, ['--interface', OUTSIDE]);
    expect(JSON.parse(okUdp.body)).toEqual({ responses: ['echo hi'] });
  });
});

describe('cleanup', () => {
  it('leaves no listener or socket behind', async () => {
    await stopAll();
    await waitFor('sockets closed', () => openSocketHandles().length === 0, 5000);
  });
});
