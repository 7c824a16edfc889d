/**
 * The test API (startCluster's handle), every method end to end against real sockets:
 * node:net, node:dgram, node:http and fetch on the addresses the handle hands out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { ConfigMap, Event, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster, type KObject } from '../../dataplane/index.js';
import { nodeIP } from '../../dataplane/base/cluster-config.js';

let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({ manifests: 'examples/quickstart', config: { nodeGraceSeconds: 2 } });
});
afterAll(async () => {
  await cluster?.close();
});

/** A raw HTTP/1.0 request over node:net; resolves with the body. */
function rawHttpGet(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let data = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`GET ${path} HTTP/1.0\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`));
    s.on('data', (d: string) => (data += d));
    s.on('error', reject);
    s.on('close', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: rest.join('\r\n\r\n') });
    });
  });
}

/** One datagram to host:port; resolves with the first reply. */
function udpAsk(host: string, port: number, msg: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

/** A DNS A query, built by hand (RFC 1035 §4.1) so the test does not trust a resolver library. */
function dnsQuery(name: string, id = 0x4b4e): Buffer {
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** The A records of a DNS answer (skips the question; answers use name compression). */
function dnsAnswerIPs(msg: Buffer): { rcode: number; ips: string[] } {
  const rcode = msg[3]! & 0x0f;
  const an = msg.readUInt16BE(6);
  let off = 12;
  while (msg[off] !== 0) off += msg[off]! + 1;
  off += 5;
  const ips: string[] = [];
  for (let i = 0; i < an; i++) {
    if ((msg[off]! & 0xc0) === 0xc0) off += 2;
    else {
      while (msg[off] !== 0) off += msg[off]! + 1;
      off += 1;
    }
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 8);
    if (type === 1) ips.push([...msg.subarray(off + 10, off + 14)].join('.'));
    off += 10 + len;
  }
  return { rcode, ips };
}

const webPods = async () => (await cluster.get<Pod>('pods', undefined, 'default', { labelSelector: 'app=web' })).filter((p) => !p.metadata?.deletionTimestamp);

describe('objects', () => {
  it('apply takes a path, YAML text and an object, and re-applying changes nothing', async () => {
    const [fromText] = await cluster.apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: from-text, labels: { made-by: test } }
data: { greeting: hello }
`);
    expect(fromText).toMatchObject({ action: 'created', object: { kind: 'ConfigMap', metadata: { name: 'from-text' } } });
    const object: ConfigMap & KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-object', labels: { 'made-by': 'test' } }, data: { a: 'b' } };
    expect((await cluster.apply(object))[0]!.action).toBe('created');
    expect((await cluster.apply(object))[0]!.action).toBe('unchanged');
    // The quickstart came in through a path; applying it again is a no-op too.
    expect((await cluster.apply('examples/quickstart')).map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('get returns one object, a list, and a label-selected list; unknown names are undefined', async () => {
    expect((await cluster.get<ConfigMap>('configmap', 'from-text'))?.data).toEqual({ greeting: 'hello' });
    expect((await cluster.get('cm', undefined, 'default', { labelSelector: 'made-by=test' })).map((c) => c.metadata?.name).sort()).toEqual(['from-object', 'from-text']);
    expect((await cluster.get('svc', undefined, '*')).map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toContain('kube-system/kube-dns');
    expect(await cluster.get('configmap', 'nope')).toBeUndefined();
    expect((await cluster.get<Node>('nodes')).map((n) => n.metadata?.name).sort()).toEqual(['node-1', 'node-2']);
  });

  it('watch replays what exists, then delivers changes until unsubscribed', async () => {
    const seen: string[] = [];
    const off = cluster.watch<ConfigMap & KObject>('configmaps', {
      add: (c) => seen.push(`add ${c.metadata?.name}`),
      update: (_o, c) => seen.push(`update ${c.metadata?.name} ${c.data?.a}`),
      delete: (c) => seen.push(`delete ${c.metadata?.name}`),
    });
    expect(seen).toContain('add from-object');
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-object', labels: { 'made-by': 'test' } }, data: { a: 'c' } } as KObject);
    await cluster.waitFor(() => seen.includes('update from-object c'), 'the watch to see the update');
    off();
    // A watch still subscribed is handed each event in the same dispatch as every other one.
    const still: string[] = [];
    const offStill = cluster.watch<ConfigMap & KObject>('configmaps', { update: (_o, c) => still.push(`update ${c.metadata?.name} ${c.data?.a}`) });
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-object', labels: { 'made-by': 'test' } }, data: { a: 'd' } } as KObject);
    await cluster.waitFor(() => still.includes('update from-object d'), 'the second update, seen by the watch still subscribed');
    offStill();
    expect(seen).not.toContain('update from-object d');
  });

  it('delete by kind and name, and by manifest, waiting until gone', async () => {
    await cluster.delete('configmap', 'from-text', 'default', { wait: true });
    expect(await cluster.get('cm', 'from-text')).toBeUndefined();
    await cluster.delete('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: from-object }\n', undefined, 'default', { wait: true });
    expect(await cluster.get('cm', undefined, 'default', { labelSelector: 'made-by=test' })).toEqual([]);
  });
});

describe('waiting', () => {
  it('waitForPods returns the ready pods of a workload or a selector', async () => {
    const byWorkload = await cluster.waitForPods('deployment/web');
    expect(byWorkload).toHaveLength(3);
    const bySelector = await cluster.waitForPods('app=web', { count: 3 });
    expect(bySelector.map((p) => p.metadata?.name).sort()).toEqual(byWorkload.map((p) => p.metadata?.name).sort());
  });

  it('waitForEndpoints returns the ready endpoint IPs; waitForCondition an object whose condition holds', async () => {
    const ips = await cluster.waitForEndpoints('web', 3);
    expect(ips).toEqual((await webPods()).map((p) => p.status!.podIP!).sort());
    const node = await cluster.waitForCondition<Node & KObject>('node/node-1', 'Ready');
    expect(node.metadata?.name).toBe('node-1');
  });

  it('waitFor returns the first truthy value, and times out with what it waited for', async () => {
    expect(await cluster.waitFor(async () => (await cluster.get('svc', 'web'))?.metadata?.name)).toBe('web');
    await expect(cluster.waitFor(() => false, { what: 'the impossible', timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms waiting for the impossible[\s\S]*last events:[\s\S]*pods:/);
  });
});

describe('addresses', () => {
  it('serviceAddress ClusterIP reaches a pod over TCP (node:net) and UDP (node:dgram)', async () => {
    const names = new Set((await webPods()).map((p) => p.metadata!.name!));
    const tcp = await cluster.serviceAddress('web');
    const svc = (await cluster.get<Service>('svc', 'web'))!;
    expect(tcp).toEqual({ host: svc.spec!.clusterIP, port: 80 });
    const res = await rawHttpGet(tcp.host, tcp.port, '/hostname');
    expect(res.status).toBe(200);
    expect(names).toContain(res.body);
    const udp = await cluster.serviceAddress('web', 'udp');
    expect(udp).toEqual({ host: svc.spec!.clusterIP, port: 80 });
    expect(await cluster.serviceAddress('web', 80, { protocol: 'UDP' })).toEqual(udp);
    expect(names).toContain((await udpAsk(udp.host, udp.port, 'hostname')).toString());
  });

  it('serviceAddress NodePort reaches a pod through every node', async () => {
    const names = new Set((await webPods()).map((p) => p.metadata!.name!));
    const nodePort = (await cluster.get<Service>('svc', 'web'))!.spec!.ports!.find((p) => p.name === 'http')!.nodePort!;
    for (const node of [1, 2]) {
      const a = await cluster.serviceAddress('web', 'http', { type: 'NodePort', node });
      expect(a).toEqual({ host: nodeIP(cluster.config, node), port: nodePort });
      const r = await fetch(`http://${a.host}:${a.port}/hostname`);
      expect(names).toContain(await r.text());
    }
  });

  it('serviceAddress LoadBalancer reaches a pod on its pool IP; wrong types are named', async () => {
    await cluster.apply(`apiVersion: v1
kind: Service
metadata: { name: web-lb }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ name: http, port: 8088, targetPort: http }]
`);
    const a = await cluster.serviceAddress('web-lb', undefined, { type: 'LoadBalancer' });
    expect(a.port).toBe(8088);
    expect(a.host.startsWith(cluster.config.loadBalancerPool.first.split('.').slice(0, 3).join('.'))).toBe(true);
    const names = new Set((await webPods()).map((p) => p.metadata!.name!));
    expect(names).toContain(await (await fetch(`http://${a.host}:${a.port}/hostname`)).text());
    await expect(cluster.serviceAddress('web', 'http', { type: 'LoadBalancer' })).rejects.toThrow('service default/web has no LoadBalancer IP (it is type NodePort)');
    await expect(cluster.serviceAddress('nope')).rejects.toThrow('service default/nope not found');
  });

  it('ingressAddress routes by Host through the ingress controller', async () => {
    const ing = cluster.ingressAddress();
    const names = new Set((await webPods()).map((p) => p.metadata!.name!));
    const viaHost = await rawHttpGet(ing.host, ing.httpPort, '/hostname', { Host: 'web.example.com' });
    expect(viaHost.status).toBe(200);
    expect(names).toContain(viaHost.body);
    // The ingress host resolves through lookup, so a URL with the host name works too.
    expect(names).toContain(await (await cluster.fetch(`http://web.example.com:${ing.httpPort}/hostname`)).text());
    expect((await rawHttpGet(ing.host, ing.httpPort, '/hostname', { Host: 'unknown.example.com' })).status).toBe(404);
  });

  it('dnsServer answers A queries over UDP with the ClusterIP, NXDOMAIN for unknown services', async () => {
    const { host, port } = cluster.dnsServer;
    const clusterIP = (await cluster.get<Service>('svc', 'web'))!.spec!.clusterIP!;
    expect(dnsAnswerIPs(await udpAsk(host, port, dnsQuery('web.default.svc.cluster.local')))).toEqual({ rcode: 0, ips: [clusterIP] });
    expect(dnsAnswerIPs(await udpAsk(host, port, dnsQuery('nope.default.svc.cluster.local'))).rcode).toBe(3);
    expect(await cluster.resolver.resolve4('kubernetes.default.svc.cluster.local')).toEqual([cluster.config.kubernetesServiceIP]);
  });

  it('lookup lets http.get and fetch use cluster names; unknown names fail with ENOTFOUND', async () => {
    const names = new Set((await webPods()).map((p) => p.metadata!.name!));
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: 'web.default.svc.cluster.local', path: '/hostname', lookup: cluster.lookup as never, agent: false }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(names).toContain(body);
    expect(names).toContain(await (await cluster.fetch('http://web.default.svc/hostname')).text());
    const all = await new Promise<unknown>((resolve, reject) => cluster.lookup('web.default.svc.cluster.local', { all: true }, (err, a) => (err ? reject(err) : resolve(a))));
    expect(all).toEqual([{ address: (await cluster.serviceAddress('web')).host, family: 4 }]);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => cluster.lookup('nope.default.svc.cluster.local', {}, (e) => resolve(e)));
    expect(err?.code).toBe('ENOTFOUND');
    // Names outside the cluster resolve as usual.
    const local = await new Promise<unknown>((resolve, reject) => cluster.lookup('localhost', { family: 4 }, (e, a) => (e ? reject(e) : resolve(a))));
    expect(local).toBe('127.0.0.1');
  });
});

describe('faults and evidence', () => {
  it("nodeStop takes node-2's endpoints out of the Service; nodeStart puts them back", async () => {
    const onNode2 = (await webPods()).filter((p) => p.spec?.nodeName === 'node-2').map((p) => p.status!.podIP!);
    expect(onNode2.length).toBeGreaterThan(0);
    await cluster.nodeStop('node-2');
    await cluster.waitForCondition('node/node-2', 'Ready', 'Unknown');
    await cluster.waitFor(async () => (await cluster.readyEndpoints('web')).every((ip) => !onNode2.includes(ip)), "node-2's endpoints to go not-ready");
    await cluster.nodeStart('node-2');
    await cluster.waitForCondition('node/node-2', 'Ready', 'True');
    await cluster.waitForEndpoints('web', 3);
  });

  it("logs returns a command container's stdout and stderr; events tell its story", async () => {
    await cluster.apply(`apiVersion: v1
kind: Pod
metadata: { name: talker }
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello from $POD_IP; echo oops >&2; exec sleep 600"]
`);
    const pod = (await cluster.get<Pod>('pod', 'talker'))!;
    await cluster.waitFor(async () => (await cluster.logs('talker')).includes('oops'), 'the log lines');
    expect(await cluster.logs('talker')).toBe(`hello from ${pod.status!.podIP}\noops\n`);
    expect(await cluster.logs('talker', { tail: 1 })).toBe('oops\n');
    expect(await cluster.logs('pod/talker', { container: 'main' })).toContain('hello from');
    const reasons = (await cluster.events({ for: 'pod/talker' })).map((e: Event) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Started']));
    expect((await cluster.events('default')).length).toBeGreaterThan(reasons.length);
  });
});
