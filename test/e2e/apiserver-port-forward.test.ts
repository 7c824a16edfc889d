/**
 * Through knet's apiserver with the real kubectl 1.32 and @kubernetes/client-node:
 *  - `kubectl port-forward` to pod/, deploy/ and svc/ targets, LOCAL:REMOTE and several ports,
 *    over both of kubectl's transports: SPDY tunnelled in WebSocket (its default) and the plain
 *    SPDY/3.1 upgrade it falls back to (forced with KUBECTL_PORT_FORWARD_WEBSOCKETS=false);
 *  - 50 concurrent connections through svc/web, megabytes both ways with half-closes, a refused
 *    port in the kubelet's words, and teardown: kubectl killed → the pod's connection closes;
 *    pod deleted → kubectl exits with "lost connection to pod";
 *  - client-node's PortForward and a raw WebSocket (v4 channels: the 2-byte port prefix, the
 *    error channel);
 *  - `kubectl proxy` and `kubectl get --raw` through services/proxy and pods/proxy.
 * Every wait is on an event: kubectl's "Forwarding from" line, its exit, a reply, the echo
 * program's own "no connection open" answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as k8s from '@kubernetes/client-node';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import path from 'node:path';
import { kubectl, kubectlBinary, kubectlEnv } from '../support/kubectl.js';
import { forwarding, type Forward } from '../support/port-forward.js';
import { agnhostDeployment, readyPods } from './proxy-helpers.js';

let cluster: KnetCluster;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

/**
 * A real program (a local process, as knet runs any image whose command it does not emulate):
 * TCP echo on 9000 (half-close aware), HTTP on 9001: /open is the number of open echo
 * connections, /idle answers once none is open.
 */
const ECHO_PROGRAM = `
const net = require('net'), http = require('http');
const ip = process.env.POD_IP;
let open = 0;
const waiting = [];
const settle = () => { if (open === 0) waiting.splice(0).forEach((r) => r.end('0')); };
net.createServer({ allowHalfOpen: true }, (s) => {
  open++;
  s.on('error', () => {});
  s.on('close', () => { open--; settle(); });
  s.pipe(s);
}).listen(9000, ip);
http.createServer((q, r) => {
  if (q.url === '/open') return r.end(String(open));
  if (q.url === '/idle') { waiting.push(r); return settle(); }
  r.end('echo');
}).listen(9001, ip);
`;

const echoDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'echo' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'echo' } },
    template: {
      metadata: { labels: { app: 'echo' } },
      spec: {
        containers: [
          {
            name: 'echo',
            image: 'node:20',
            command: [process.execPath, '-e', ECHO_PROGRAM],
            ports: [
              { name: 'echo', containerPort: 9000 },
              { name: 'status', containerPort: 9001 },
            ],
            readinessProbe: { tcpSocket: { port: 9001 }, periodSeconds: 1 },
          },
        ],
      },
    },
  },
};

const WEB_SERVICE = `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`;

beforeAll(async () => {
  cluster = await startCluster({
    components: { dns: false, ingress: false },
    manifests: [agnhostDeployment({ name: 'web', replicas: 2 }), WEB_SERVICE, JSON.stringify(echoDeployment)].join('---\n'),
  });
  await cluster.waitForEndpoints('web', 2);
  env = kubectlEnv(cluster.kubeconfig.path);
}, 120_000);

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

afterAll(async () => {
  await cluster?.close();
});

type Transport = 'websocket' | 'spdy';
const TRANSPORT_ENV: Record<Transport, NodeJS.ProcessEnv> = { websocket: {}, spdy: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } };

/** `kubectl port-forward TARGET PORTS… --address 127.0.0.1 -v=6`, once it printed a Forwarding line per port. */
async function portForward(transport: Transport, target: string, ...ports: string[]): Promise<Forward> {
  const child = spawn(kubectlBinary(), ['port-forward', target, ...ports, '--address', '127.0.0.1', '-v=6'], { env: { ...env, ...TRANSPORT_ENV[transport] }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return forwarding(child, `kubectl port-forward ${target}`, ports.length);
}

/** The upgrade kubectl made, from its -v=6 request log. */
function upgradeSeen(f: Forward): string | undefined {
  return /(GET|POST) https:\/\/\S+\/portforward 101 Switching Protocols/.exec(f.stderr())?.[1];
}

/** One HTTP GET on a new connection; never rejects (the result says how it ended). */
function get(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

/** Sends `data`, half-closes, and collects what comes back until the far end closes. */
function echoThrough(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => {
      s.end();
      resolve(Buffer.concat(chunks));
    });
    s.on('error', reject);
    s.end(data);
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

const echoPod = async (): Promise<Pod> => (await readyPods(cluster, { app: 'echo' }))[0]!;
const webPods = async (): Promise<string[]> => (await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!);

describe.each<Transport>(['websocket', 'spdy'])('kubectl port-forward over %s', (transport) => {
  it("pod/NAME LOCAL:REMOTE reaches that pod, seen from the pod's node (the kubelet forwards on a cluster)", async () => {
    const [pod] = await webPods();
    const hostIP = (await cluster.get<Pod>('pod', pod!))!.status!.hostIP!;
    const local = await freePort();
    const fwd = await portForward(transport, `pod/${pod}`, `${local}:8080`);
    expect(fwd.ports).toEqual([{ local, remote: 8080 }]);
    expect(await get(local, '/hostname')).toEqual({ status: 200, body: pod });
    expect(await get(local, '/clientip')).toMatchObject({ status: 200, body: expect.stringMatching(new RegExp(`^${hostIP.replace(/\./g, '\\.')}:\\d+$`)) });
    // WebSocket is a GET with the tunnelling subprotocol; the SPDY upgrade is a POST.
    expect(upgradeSeen(fwd)).toBe(transport === 'websocket' ? 'GET' : 'POST');
    if (transport === 'spdy') expect(fwd.stderr()).not.toContain('tunneling_dialer');
    expect(fwd.stdout()).toContain(`Handling connection for ${local}`);
  });

  it('carries 4 MiB each way byte for byte, with half-closes (no stall at SPDY windows)', async () => {
    const fwd = await portForward(transport, 'deploy/echo', ':9000');
    const data = randomBytes(4 * 1024 * 1024);
    const back = await echoThrough(fwd.ports[0]!.local, data);
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
  });

  it('exits with "lost connection to pod" when the pod is deleted', async () => {
    const name = `doomed-${transport}`;
    await cluster.apply(`apiVersion: v1\nkind: Pod\nmetadata: { name: ${name} }\nspec:\n  containers:\n  - { name: web, image: nginx, ports: [{ containerPort: 80 }] }\n`);
    const fwd = await portForward(transport, `pod/${name}`, ':80');
    expect(await get(fwd.ports[0]!.local, '/')).toMatchObject({ status: 200 });
    await cluster.delete('pod', name, 'default', { gracePeriodSeconds: 0 });
    expect(await fwd.exited).toBe(1);
    expect(fwd.stderr()).toContain('error: lost connection to pod');
  });
});

describe('kubectl port-forward targets and connections', () => {
  it('deploy/NAME with several ports, named and numbered', async () => {
    const fwd = await portForward('websocket', 'deploy/echo', ':echo', ':9001');
    expect(fwd.ports.map((p) => p.remote)).toEqual([9000, 9001]);
    expect((await echoThrough(fwd.ports[0]!.local, Buffer.from('ping'))).toString()).toBe('ping');
    expect(await get(fwd.ports[1]!.local, '/')).toEqual({ status: 200, body: 'echo' });
  });

  it('svc/NAME: 50 concurrent connections each get their own correct reply from one pod', async () => {
    const fwd = await portForward('websocket', 'svc/web', ':80');
    // kubectl translates the service port to the targetPort (the named port http = 8080).
    expect(fwd.ports[0]!.remote).toBe(8080);
    const local = fwd.ports[0]!.local;
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => get(local, `/echo?msg=reply-${i}`)));
    replies.forEach((r, i) => expect(r).toEqual({ status: 200, body: `reply-${i}` }));
    const hosts = await Promise.all(Array.from({ length: 10 }, () => get(local, '/hostname')));
    const names = new Set(hosts.map((h) => ('body' in h ? h.body : h.error)));
    // port-forward picks one pod of the service, and every connection goes there.
    expect(names.size).toBe(1);
    expect(await webPods()).toContain([...names][0]);
  });

  it.each<Transport>(['websocket', 'spdy'])('kubectl killed (%s): the connection it carried into the pod is closed', async (transport) => {
    const pod = await echoPod();
    const fwd = await portForward(transport, 'deploy/echo', ':9000');
    const s = net.connect({ host: '127.0.0.1', port: fwd.ports[0]!.local });
    s.on('error', () => {});
    s.write('hello');
    await new Promise((resolve) => s.once('data', resolve));
    expect(await get9001(pod, '/open')).toBe('1');
    fwd.child.kill('SIGKILL');
    await fwd.exited;
    // Answers once the echo program has no connection open.
    expect(await get9001(pod, '/idle')).toBe('0');
    s.destroy();
  });

  it('a refused port: the kubelet\'s message, then kubectl 1.32 gives up ("lost connection to pod")', async () => {
    const [pod] = await readyPods(cluster, { app: 'web' });
    const fwd = await portForward('websocket', `pod/${pod!.metadata!.name}`, ':7777');
    expect(await get(fwd.ports[0]!.local, '/')).toHaveProperty('error');
    expect(await fwd.exited).toBe(1);
    expect(fwd.stderr()).toContain(
      `an error occurred forwarding ${fwd.ports[0]!.local} -> 7777: error forwarding port 7777 to pod ${pod!.metadata!.name}, uid ${pod!.metadata!.uid}: dial tcp4 ${pod!.status!.podIP}:7777: connect: connection refused`,
    );
    expect(fwd.stderr()).toContain('error: lost connection to pod');
  });

  it('reaches a pod that a deny-all NetworkPolicy isolates, as a forward does on a cluster', async () => {
    const [pod] = await readyPods(cluster, { app: 'web' });
    await cluster.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: 'default', name: 'web-deny-all' }, spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] } }, { wait: false });
    try {
      const fwd = await portForward('websocket', `pod/${pod!.metadata!.name}`, ':8080');
      expect(await get(fwd.ports[0]!.local, '/hostname')).toEqual({ status: 200, body: pod!.metadata!.name });
    } finally {
      await cluster.delete('networkpolicy', 'web-deny-all');
    }
  });

  it('a missing pod: the apiserver\'s NotFound', async () => {
    const missing = await kubectl(env, ['port-forward', 'pod/nope', ':80']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound): pods "nope" not found');
  });
});

describe('knet port-forward (the same base/portforward code, straight from the CLI)', () => {
  it('carries 4 MiB each way with half-closes, and closes the pod\'s connection when stopped', async () => {
    const pod = await echoPod();
    const child = spawn(process.execPath, [cliEntry(), 'port-forward', 'deploy/echo', ':9000', '--address', '127.0.0.1', '--cluster', cluster.name, '--state-dir', path.dirname(cluster.stateDir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const local = (await forwarding(child, 'knet port-forward deploy/echo :9000', 1)).ports[0]!.local;
    const data = randomBytes(4 * 1024 * 1024);
    expect((await echoThrough(local, data)).equals(data)).toBe(true);
    const s = net.connect({ host: '127.0.0.1', port: local });
    s.on('error', () => {});
    s.write('hello');
    await new Promise((resolve) => s.once('data', resolve));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    expect(await get9001(pod, '/idle')).toBe('0');
    s.destroy();
  });
});

/** GET http://POD_IP:9001PATH straight to the echo program. */
async function get9001(pod: Pod, path: string): Promise<string> {
  const res = await fetch(`http://${pod.status!.podIP}:9001${path}`);
  return res.text();
}

describe('WebSocket port-forward (client libraries)', () => {
  it('@kubernetes/client-node PortForward reaches the pod (v4.channel.k8s.io)', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfig.yaml);
    const [pod] = await webPods();
    const output = new PassThrough();
    const errors = new PassThrough();
    const input = new PassThrough();
    let body = '';
    let errText = '';
    output.on('data', (d: Buffer) => (body += d.toString()));
    errors.on('data', (d: Buffer) => (errText += d.toString()));
    const ws = (await new k8s.PortForward(kc).portForward('default', pod!, [8080], output, errors, input)) as WebSocket;
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    input.write('GET /hostname HTTP/1.1\r\nHost: pod\r\nConnection: close\r\n\r\n');
    // The pod closes after its answer; so does the WebSocket.
    await closed;
    expect(body).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(body.endsWith(`\r\n\r\n${pod}`)).toBe(true);
    expect(errText).toBe('');
  });

  it('several ports on one WebSocket: each channel opens with its port (2 bytes, little-endian), a refused port on its error channel', async () => {
    const pod = await echoPod();
    const { cert, key, ca, server } = credentialsOf(cluster.kubeconfig.yaml);
    const url = `${server.replace('https', 'wss')}/api/v1/namespaces/default/pods/${pod.metadata!.name}/portforward?ports=9000&ports=7777`;
    const ws = new WebSocket(url, ['v4.channel.k8s.io'], { cert, key, ca });
    const byChannel = new Map<number, Buffer[]>();
    ws.on('message', (m: Buffer) => byChannel.set(m[0]!, [...(byChannel.get(m[0]!) ?? []), m.subarray(1)]));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    const echoed = new Promise<void>((resolve) => ws.on('message', (m: Buffer) => m[0] === 0 && m.subarray(1).toString() === 'over ws' && resolve()));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('over ws')]));
    await echoed;
    const refused = await new Promise<string>((resolve) => {
      const seen = () => {
        const errs = byChannel.get(3)?.slice(1);
        if (errs?.length) resolve(Buffer.concat(errs).toString());
      };
      seen();
      ws.on('message', seen);
    });
    for (const [channel, port] of [[0, 9000], [1, 9000], [2, 7777], [3, 7777]] as const) expect(byChannel.get(channel)?.[0]).toEqual(Buffer.from([port & 0xff, port >> 8]));
    expect(refused).toBe(`error forwarding port 7777 to pod ${pod.metadata!.name}, uid ${pod.metadata!.uid}: dial tcp4 ${pod.status!.podIP}:7777: connect: connection refused`);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.close();
    await closed;
    expect(await get9001(pod, '/idle')).toBe('0');
  });
});

describe('pods/portforward refusals, before any upgrade', () => {
  /** The status and Status message the apiserver answers a WebSocket port-forward request with. */
  const refusal = (path: string, protocols = ['v4.channel.k8s.io']) =>
    new Promise<{ code: number; message: string }>((resolve, reject) => {
      const { cert, key, ca, server } = credentialsOf(cluster.kubeconfig.yaml);
      const ws = new WebSocket(`${server.replace('https', 'wss')}${path}`, protocols, { cert, key, ca });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, message: (JSON.parse(body) as { message: string }).message }));
      });
      ws.on('open', () => reject(new Error(`${path} was upgraded`)));
      ws.on('error', () => {});
    });

  it('a missing pod, a pod not bound to a node, no ports, protocols it does not speak', async () => {
    const base = '/api/v1/namespaces/default/pods';
    expect(await refusal(`${base}/nope/portforward?ports=80`)).toEqual({ code: 404, message: 'pods "nope" not found' });
    await cluster.apply(`apiVersion: v1\nkind: Pod\nmetadata: { name: unbound }\nspec:\n  nodeSelector: { kubernetes.io/hostname: no-such-node }\n  containers: [{ name: web, image: nginx }]\n`, { wait: false });
    expect(await refusal(`${base}/unbound/portforward?ports=80`)).toEqual({ code: 400, message: 'pod unbound does not have a host assigned' });
    const [web] = await webPods();
    expect(await refusal(`${base}/${web}/portforward`)).toEqual({ code: 400, message: 'query parameter "ports" is required' });
    expect(await refusal(`${base}/${web}/portforward?ports=0`)).toEqual({ code: 400, message: 'port "0" must be > 0' });
    expect((await refusal(`${base}/${web}/portforward?ports=80`, ['v5.channel.k8s.io'])).code).toBe(400);
    // Without an upgrade at all.
    const plain = await kubectl(env, ['get', '--raw', `${base}/${web}/portforward`]);
    expect(plain.stderr).toContain('Error from server (BadRequest): Upgrade request required');
  });
});

describe('who may port-forward', () => {
  const open = (path: string, options: WebSocket.ClientOptions) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${credentialsOf(cluster.kubeconfig.yaml).server.replace('https', 'wss')}${path}`, ['v4.channel.k8s.io'], options);
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });

  it("a service account's token is accepted, no credentials are 401", async () => {
    const { ca } = credentialsOf(cluster.kubeconfig.yaml);
    const [web] = await webPods();
    const path = `/api/v1/namespaces/default/pods/${web}/portforward?ports=8080`;
    const token = await kubectl(env, ['create', 'token', 'default']);
    expect(token.code).toBe(0);
    expect(await open(path, { ca, headers: { Authorization: `Bearer ${token.stdout.trim()}` } })).toBe(101);
    expect(await open(path, { ca })).toBe(401);
    expect(await open(path, { ca, headers: { Authorization: 'Bearer not-a-token' } })).toBe(401);
  });
});

/** The admin credentials and server of a kubeconfig. */
function credentialsOf(yaml: string): { cert: Buffer; key: Buffer; ca: Buffer; server: string } {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(yaml);
  const user = kc.getCurrentUser()!;
  const cluster = kc.getCurrentCluster()!;
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64');
  return { cert: b64(user.certData), key: b64(user.keyData), ca: b64(cluster.caData), server: cluster.server };
}

describe('kubectl proxy and get --raw (services/proxy, pods/proxy)', () => {
  it('kubectl proxy --port=0 reaches a Service\'s pod and a pod by name', async () => {
    const child = spawn(kubectlBinary(), ['proxy', '--port=0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`kubectl proxy exited with ${code}: ${out}`)));
    });
    const web = await webPods();
    const viaService = await get(port, '/api/v1/namespaces/default/services/web:80/proxy/hostname');
    expect(viaService).toMatchObject({ status: 200 });
    expect(web).toContain((viaService as { body: string }).body);
    expect(await get(port, '/api/v1/namespaces/default/services/web:http/proxy/echo?msg=named')).toEqual({ status: 200, body: 'named' });
    expect(await get(port, `/api/v1/namespaces/default/pods/${web[0]}:8080/proxy/hostname`)).toEqual({ status: 200, body: web[0] });
    // No port: the pod's first declared one.
    expect(await get(port, `/api/v1/namespaces/default/pods/${web[0]}/proxy/hostname`)).toEqual({ status: 200, body: web[0] });
    // The upstream sees the apiserver's address.
    const clientip = await get(port, '/api/v1/namespaces/default/services/web:80/proxy/clientip');
    expect((clientip as { body: string }).body).toMatch(new RegExp(`^${cluster.config.apiServerAddress.replace(/\./g, '\\.')}:\\d+$`));
    const root = await get(port, '/api/v1/namespaces/default/services/web:80/proxy');
    expect(root).toMatchObject({ status: 301 });
  });

  it('kubectl get --raw through the service proxy, and its errors', async () => {
    const ok = await kubectl(env, ['get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/hostname']);
    expect(ok.code).toBe(0);
    expect(await webPods()).toContain(ok.stdout);
    const noPort = await kubectl(env, ['get', '--raw', '/api/v1/namespaces/default/services/web:81/proxy/hostname']);
    expect(noPort.stderr).toContain('Error from server (ServiceUnavailable): no service port 81 found for service "web"');
    const noService = await kubectl(env, ['get', '--raw', '/api/v1/namespaces/default/services/nope:80/proxy/']);
    expect(noService.stderr).toContain('Error from server (NotFound): services "nope" not found');
  });
});
