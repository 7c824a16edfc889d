/**
 * Standing inside a pod, end to end: toolbox images (busybox) whose commands run in the pod's
 * simulated shell on a real cluster (store, controllers, node agents, kube-proxy, cluster DNS),
 * resolving short names through the pod's resolv.conf and connecting from the pod's own IP, as
 * agnhost's /clientip on the far end reports.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { ObjectStore } from '../../dataplane/base/store/object-store.js';
import { connectRedis } from '../../dataplane/base/store/redis-connection.js';
import { execEndpointOf, execUrl } from '../../dataplane/base/remotecommand/node-endpoint.js';
import { CHANNEL, EXEC_PROTOCOLS, frame, statusExitCode } from '../../dataplane/base/remotecommand/protocol.js';
import { agnhostWeb } from '../support/agnhost.js';
import { clientPod, programPod, stdinShellPod } from '../support/exec-pods.js';
import { knetExec as runKnetExec } from '../support/knet-cli.js';

const MANIFESTS = [
  agnhostWeb({ name: 'web' }),
  `apiVersion: v1
kind: Pod
metadata: { name: looper }
spec:
  containers:
  - name: client
    image: busybox:1.36
    command: [sh, -c, "nslookup web; while true; do wget -qO- http://web/clientip; echo; sleep 1; done"]
`,
  clientPod('client', { env: { GREETING: 'hello' } }),
  stdinShellPod('waiter', 'alpine:3.20'),
  programPod('prog'),
].join('---\n');

/** `knet exec …` through the CLI, stdin given or closed. */
const knetExec = (args: string[], stdin?: string) => runKnetExec(cluster, args, stdin);

/** An exec over the node's endpoint with the raw protocol: what was written per channel, and the exit code. */
async function rawExec(pod: string, container: string, command: string[], opts: { tty?: boolean; input?: string[]; protocol?: string } = {}): Promise<{ output: string; code: number }> {
  const store = new ObjectStore(connectRedis(cluster.ref.redisUrl), cluster.name);
  const p = (await cluster.get<Pod>('pod', pod))!;
  const endpoint = (await execEndpointOf(store, p.spec!.nodeName!))!;
  await store.close();
  const url = execUrl(endpoint, { namespace: 'default', pod, container, command, stdin: !!opts.input, tty: !!opts.tty });
  const ws = new WebSocket(url, [opts.protocol ?? EXEC_PROTOCOLS[0]], { headers: { Authorization: `Bearer ${endpoint.token}` } });
  let output = '';
  let code = -1;
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => {
      for (const line of opts.input ?? []) ws.send(frame(CHANNEL.stdin, line));
    });
    ws.on('message', (data: Buffer) => {
      if (data[0] === CHANNEL.error) code = statusExitCode(JSON.parse(data.subarray(1).toString())).code;
      else output += data.subarray(1).toString();
    });
    ws.on('close', () => resolve());
  });
  return { output, code };
}

let cluster: KnetCluster;

beforeAll(async () => {
  cluster = await startCluster({ manifests: MANIFESTS, components: { ingress: false } });
});
afterAll(async () => {
  await cluster?.close();
});

describe('a busybox client pod', () => {
  it("resolves the short name through its search path and reaches the Service from its own IP, logged as it goes", async () => {
    const svc = (await cluster.get<Service>('service', 'web'))!;
    const looper = (await cluster.get<Pod>('pod', 'looper'))!;
    const podIP = looper.status!.podIP!;
    const clientLines = (log: string) => log.split('\n').filter((l) => l.startsWith(`${podIP}:`));
    // Two answers, a second apart: the loop's output reaches the log one iteration at a time.
    const log = await cluster.waitFor(async () => {
      const text = await cluster.logs('looper');
      return clientLines(text).length >= 2 ? text : false;
    }, { what: 'two /clientip answers in the looper log', detail: async () => `looper log:\n${await cluster.logs('looper')}` });
    expect(log).toContain(`Server:\t\t${cluster.config.dnsServiceIP}\n`);
    expect(log).toContain(`Name:\tweb.default.svc.cluster.local\nAddress: ${svc.spec!.clusterIP}\n`);
    expect(log).toContain("** server can't find web.svc.cluster.local: NXDOMAIN");
    expect(clientLines(log)[0]).toMatch(new RegExp(`^${podIP.replace(/\./g, '\\.')}:\\d+$`));
  });
});

describe('knet exec', () => {
  it('runs a command in the simulated shell: printenv, resolv.conf, hostname', async () => {
    expect(await knetExec(['client', '--', 'printenv', 'GREETING'])).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    expect((await knetExec(['client', '--', 'cat', '/etc/resolv.conf'])).stdout).toBe(`search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver ${cluster.config.dnsServiceIP}\noptions ndots:5\n`);
    expect((await knetExec(['client', '--', 'hostname'])).stdout).toBe('client\n');
    // The service-account files (the kube-api-access volume): the cluster CA the apiserver made, the namespace, the token.
    expect((await knetExec(['client', '--', 'ls', '/var/run/secrets/kubernetes.io/serviceaccount'])).stdout).toBe('ca.crt\nnamespace\ntoken\n');
    expect((await knetExec(['client', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'])).stdout).toBe(readFileSync(path.join(cluster.stateDir, 'pki', 'ca.crt'), 'utf8'));
    expect(await knetExec(['client', '--', 'sh', '-c', 'nosuchcmd'])).toEqual({ code: 127, stdout: '', stderr: 'sh: nosuchcmd: not found\ncommand terminated with exit code 127\n' });
  });

  it("connects from the pod's IP to a Service by its short name", async () => {
    const client = (await cluster.get<Pod>('pod', 'client'))!;
    const r = await knetExec(['client', '--', 'wget', '-qO-', 'http://web/clientip']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${client.status!.podIP!.replace(/\./g, '\\.')}:\\d+$`));
    const svc = (await cluster.get<Service>('service', 'web'))!;
    const ns = await knetExec(['client', '--', 'nslookup', 'web']);
    expect(ns.stdout).toContain(`Name:\tweb.default.svc.cluster.local\nAddress: ${svc.spec!.clusterIP}\n`);
    // busybox's nslookup exits 1 on the search domains that do not exist, as in a cluster.
    expect(ns.code).toBe(1);
  });

  it('keeps a shell with stdin: true (kubectl run -i) running, to exec into', async () => {
    const waiter = (await cluster.get<Pod>('pod', 'waiter'))!;
    expect(waiter.status?.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0, state: { running: expect.anything() } });
    expect(await knetExec(['waiter', '--', 'sh', '-c', 'echo $HOSTNAME'])).toEqual({ code: 0, stdout: 'waiter\n', stderr: '' });
  });

  it('passes stdin (-i) with its end, and the exit code', async () => {
    expect(await knetExec(['-i', 'client', '--', 'sh', '-c', 'cat; exit 3'], 'from stdin\n')).toEqual({ code: 3, stdout: 'from stdin\n', stderr: 'command terminated with exit code 3\n' });
  });

  it("runs a program's command as a local process with the container's environment", async () => {
    expect(await knetExec(['prog', '--', 'sh', '-c', 'echo $POD_NAME; exit 4'])).toEqual({ code: 4, stdout: 'prog\n', stderr: 'command terminated with exit code 4\n' });
    // A terminal for a program comes from node-pty.
    const t = await rawExec('prog', 'main', ['tty'], { tty: true });
    expect(t).toMatchObject({ code: 0, output: expect.stringMatching(/^\/dev\/pts\/\d+\r\n$/) });
  });

  it('gives an interactive shell with a prompt that keeps its state, over v5 and v4', async () => {
    for (const protocol of EXEC_PROTOCOLS) {
      const r = await rawExec('client', 'client', ['sh'], { tty: true, protocol, input: ['cd /tmp\r', 'X=7\r', 'echo "in $(pwd) x=$X"\r', 'exit $X\r'] });
      expect(r.code).toBe(7);
      expect(r.output).toContain('/ # ');
      expect(r.output).toContain('in /tmp x=7\r\n');
      expect(r.output).toContain('/tmp # ');
    }
  });
});
