/**
 * Source addresses and traffic policies with real curl: SNAT on Cluster NodePorts, source kept
 * on Local ones, hang without a local endpoint, health check node ports, internalTrafficPolicy.
 * Addresses: ClusterIPs 127.51.96.31–49, backends 127.51.1.31 (node-1) and 127.51.2.31 (node-2),
 * nodePorts 3013x, health checks 3113x, LB IPs 127.51.255.20x, clients 127.51.200.2x, and the
 * externalIP 127.52.255.202 (outside the cluster's ranges, which the proxy refuses to give away).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EP } from '../../unit/proxy/fixtures.js';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { curl, NODE1, NODE2, slice, startBackend, startRig, svc, tcpConnect, type Backend, type Rig } from './helpers.js';

const ON1: EP = { ip: '127.51.1.31', node: 'node-1', pod: 'web-1' };
const ON2: EP = { ip: '127.51.2.31', node: 'node-2', pod: 'web-2' };
const CLIENT = '127.51.200.21';

let rig: Rig;
let backends: Backend[];

beforeAll(async () => {
  backends = await Promise.all([startBackend(ON1.ip, 8080), startBackend(ON2.ip, 8080)]);
  rig = await startRig();
});

afterAll(async () => {
  await rig?.close();
  await Promise.all(backends.map((b) => b.close()));
});

const ip = (body: string) => body.split(':')[0];

async function apply(name: string, spec: Parameters<typeof svc>[1], endpoints: EP[], lbIPs?: string[]) {
  rig.informers.upsert(svc(name, spec, lbIPs ? { lbIPs } : {}));
  rig.informers.upsert(slice(name, [{ port: 8080 }], endpoints));
  await rig.proxy.sync();
}

describe('source address', () => {
  it('ClusterIP keeps the client address', async () => {
    await apply('cip', { clusterIP: '127.51.96.31', ports: [{ port: 8080 }] }, [ON1]);
    expect(ip((await curl('http://127.51.96.31:8080/clientip', { from: CLIENT })).body)).toBe(CLIENT);
  });

  it('Cluster NodePort shows the receiving node IP (SNAT), on either node', async () => {
    await apply('np-cluster', { clusterIP: '127.51.96.32', type: 'NodePort', ports: [{ port: 8080, nodePort: 30131 }] }, [ON1]);
    expect(ip((await curl(`http://${NODE1.ip}:30131/clientip`, { from: CLIENT })).body)).toBe(NODE1.ip);
    expect(ip((await curl(`http://${NODE2.ip}:30131/clientip`, { from: CLIENT })).body)).toBe(NODE2.ip);
  });

  it('Local NodePort shows the client IP; the node without an endpoint hangs (curl 28)', async () => {
    await apply('np-local', { clusterIP: '127.51.96.33', type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 8080, nodePort: 30132 }] }, [ON1]);
    const r = await curl(`http://${NODE1.ip}:30132/clientip`, { from: CLIENT });
    expect(r.code).toBe(0);
    expect(ip(r.body)).toBe(CLIENT);
    expect((await curl(`http://${NODE2.ip}:30132/`, { from: CLIENT, maxTime: 2 })).code).toBe(28);
  });

  it('Local NodePort: a pod on the same node, and the node itself, use the cluster-wide set', async () => {
    await apply('np-short', { clusterIP: '127.51.96.34', type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 8080, nodePort: 30133 }] }, [ON1]);
    const pod = await curl(`http://${NODE2.ip}:30133/clientip`, { from: '127.51.2.200' });
    expect(pod.code).toBe(0);
    expect(ip(pod.body)).toBe('127.51.2.200');
    const node = await curl(`http://${NODE2.ip}:30133/clientip`, { from: NODE2.ip });
    expect(node.code).toBe(0);
    expect(ip(node.body)).toBe(NODE2.ip);
  });

  it('a held connection is served once a local endpoint appears', async () => {
    await apply('np-late', { clusterIP: '127.51.96.35', type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ port: 8080, nodePort: 30134 }] }, [ON1]);
    const sock = await tcpConnect(NODE2.ip, 30134, CLIENT);
    if (typeof sock === 'string') throw new Error(sock);
    const reply = new Promise<string>((resolve) => {
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('end', () => resolve(data));
    });
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // Held (counted as it starts): the request bytes are read and kept, nothing is answered.
    const holding = /knet_proxy_connections_failed_total\{service="default\/np-late:\/TCP",reason="no_local_endpoints"\} 1/;
    await waitUntil(async () => holding.test(await rig.proxy.metrics.metrics()), { timeoutMs: 5000, onTimeout: () => new Error('the proxy never held the connection') });
    // The request is in the held socket's receive queue already (loopback); the reader the hold
    // attached takes it in the next poll phase, which has run two check phases later.
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    rig.informers.upsert(slice('np-late', [{ port: 8080 }], [ON1, ON2]));
    expect(await reply).toContain(`${ON2.ip}:8080`);
    sock.destroy();
  });

  it('LoadBalancer IP with Local: source kept; externalIP with Cluster: SNAT to the announcing node', async () => {
    await apply('lb-local', { clusterIP: '127.51.96.36', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31136, ports: [{ port: 8080, nodePort: 30136 }] }, [ON2], ['127.51.255.201']);
    const lb = await curl('http://127.51.255.201:8080/clientip', { from: CLIENT });
    expect(ip(lb.body)).toBe(CLIENT);
    await apply('ext-cluster', { clusterIP: '127.51.96.37', externalIPs: ['127.52.255.202'], ports: [{ port: 8080 }] }, [ON2]);
    expect(ip((await curl('http://127.52.255.202:8080/clientip', { from: CLIENT })).body)).toBe(NODE1.ip);
  });
});

function getHealth(host: string, port: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/healthz', agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('healthCheckNodePort', () => {
  it('answers 200 on the node with a ready pod and 503 on the other, with kube-proxy’s body and headers', async () => {
    await apply('hc', { clusterIP: '127.51.96.38', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31138, ports: [{ port: 8080, nodePort: 30138 }] }, [ON1], ['127.51.255.203']);
    const on1 = await getHealth(NODE1.ip, 31138);
    expect(on1.status).toBe(200);
    expect(on1.headers['content-type']).toBe('application/json');
    expect(on1.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(on1.body)).toEqual({ service: { namespace: 'default', name: 'hc' }, localEndpoints: 1, serviceProxyHealthy: true });
    const on2 = await getHealth(NODE2.ip, 31138);
    expect(on2.status).toBe(503);
    expect(JSON.parse(on2.body).localEndpoints).toBe(0);
  });

  it('a node whose only endpoint is terminating answers 503 yet still forwards', async () => {
    await apply('hc-term', { clusterIP: '127.51.96.39', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31139, ports: [{ port: 8080, nodePort: 30139 }] }, [{ ...ON1, ready: false, serving: true, terminating: true }], ['127.51.255.204']);
    expect((await getHealth(NODE1.ip, 31139)).status).toBe(503);
    expect((await curl(`http://${NODE1.ip}:30139/`, { from: CLIENT })).body).toBe(`${ON1.ip}:8080`);
  });

  it('switching to Cluster stops the health check server', async () => {
    await apply('hc-switch', { clusterIP: '127.51.96.40', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31140, ports: [{ port: 8080, nodePort: 30140 }] }, [ON1], ['127.51.255.205']);
    expect((await getHealth(NODE1.ip, 31140)).status).toBe(200);
    await apply('hc-switch', { clusterIP: '127.51.96.40', type: 'LoadBalancer', ports: [{ port: 8080, nodePort: 30140 }] }, [ON1], ['127.51.255.205']);
    await expect(getHealth(NODE1.ip, 31140)).rejects.toThrow(/ECONNREFUSED/);
    // And the node without an endpoint now proxies, with SNAT.
    expect(ip((await curl(`http://${NODE2.ip}:30140/clientip`, { from: CLIENT })).body)).toBe(NODE2.ip);
  });
});

describe('internalTrafficPolicy Local', () => {
  it('a pod on each node reaches only its own node’s endpoint', async () => {
    await apply('itp', { clusterIP: '127.51.96.41', internalTrafficPolicy: 'Local', ports: [{ port: 8080 }] }, [ON1, ON2]);
    for (let i = 0; i < 3; i++) {
      expect((await curl('http://127.51.96.41:8080/', { from: '127.51.1.201' })).body).toBe(`${ON1.ip}:8080`);
      expect((await curl('http://127.51.96.41:8080/', { from: '127.51.2.201' })).body).toBe(`${ON2.ip}:8080`);
    }
  });

  it('a pod on a node without an endpoint hangs while the other node answers', async () => {
    await apply('itp-one', { clusterIP: '127.51.96.42', internalTrafficPolicy: 'Local', ports: [{ port: 8080 }] }, [ON1]);
    expect((await curl('http://127.51.96.42:8080/', { from: '127.51.1.202' })).body).toBe(`${ON1.ip}:8080`);
    expect((await curl('http://127.51.96.42:8080/', { from: '127.51.2.202', maxTime: 2 })).code).toBe(28);
  });
});
