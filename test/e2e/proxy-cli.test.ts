/**
 * The proxy's command-line side, end to end with the built CLI against a running cluster:
 * `knet port-forward` to a pod, a Service (port → targetPort) and a Deployment, exiting with
 * "lost connection to pod" when its pod goes away; `knet get svc -o wide` showing the
 * endpoints in use; `knet describe svc` showing a bind failure's Warning event.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { forwarding, type Forward } from '../support/port-forward.js';
import { agnhostDeployment, curl, readyPods } from './proxy-helpers.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

const exec = promisify(execFile);
let cluster: KnetCluster;
const children: ChildProcess[] = [];

const globals = () => ['--cluster', cluster.name, '--state-dir', path.dirname(cluster.stateDir)];

async function knet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, ...globals()], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Starts `knet port-forward …` and resolves once it printed a Forwarding line per port. */
async function portForward(target: string, ...ports: string[]): Promise<Forward> {
  const child = spawn(process.execPath, [cliEntry(), 'port-forward', target, ...ports, '--address', '127.0.0.1', ...globals()], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return forwarding(child, `knet port-forward ${target} ${ports.join(' ')}`, ports.length, 20_000);
}

beforeAll(async () => {
  cluster = await startCluster({
    components: { dns: false, ingress: false },
    manifests: [
      agnhostDeployment({ name: 'web', replicas: 2 }),
      `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
`,
    ].join('---\n'),
  });
  await cluster.waitForEndpoints('web', 2);
}, 90_000);

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGINT');
});

afterAll(async () => {
  await cluster?.close();
});

describe('knet port-forward', () => {
  it('svc/NAME: a random local port forwards to the targetPort of one of its pods', async () => {
    const pods = (await readyPods(cluster, { app: 'web' })).map((p) => p.metadata!.name!);
    const fwd = await portForward('svc/web', ':80');
    expect(fwd.ports).toEqual([{ local: expect.any(Number), remote: 8080 }]);
    const r = await curl(`http://127.0.0.1:${fwd.ports[0]!.local}/hostname`);
    expect(pods).toContain(r.body);
    // Always the same pod (port-forward picks one), seeing the connection come from its node (as the kubelet forwards).
    expect((await curl(`http://127.0.0.1:${fwd.ports[0]!.local}/hostname`)).body).toBe(r.body);
    const pod = await cluster.get<Pod>('pod', r.body);
    expect((await curl(`http://127.0.0.1:${fwd.ports[0]!.local}/clientip`)).body).toMatch(new RegExp(`^${pod!.status!.hostIP!.replace(/\./g, '\\.')}:\\d+$`));
    expect(fwd.stdout()).toContain(`Handling connection for ${fwd.ports[0]!.local}`);
    // Ctrl-C ends it cleanly.
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(0);
    expect(fwd.stderr()).toBe('');
  });

  it('pod/NAME and deploy/NAME, with named and LOCAL:REMOTE ports', async () => {
    const [pod] = await readyPods(cluster, { app: 'web' });
    const free = await freePort();
    const byPod = await portForward(`pod/${pod!.metadata!.name}`, `${free}:http`);
    expect(byPod.ports).toEqual([{ local: free, remote: 8080 }]);
    expect((await curl(`http://127.0.0.1:${free}/hostname`)).body).toBe(pod!.metadata!.name);
    const byDeploy = await portForward('deploy/web', ':8080');
    expect((await curl(`http://127.0.0.1:${byDeploy.ports[0]!.local}/hostname`)).body).toMatch(/^web-/);
  });

  it('exits with "lost connection to pod" when its pod is deleted', async () => {
    const [pod] = await readyPods(cluster, { app: 'web' });
    const fwd = await portForward(`pod/${pod!.metadata!.name}`, ':8080');
    await cluster.delete('pod', pod!.metadata!.name!, 'default', { gracePeriodSeconds: 0 });
    expect(await fwd.exited).toBe(1);
    expect(fwd.stderr()).toContain('error: lost connection to pod');
    expect((await curl(`http://127.0.0.1:${fwd.ports[0]!.local}/hostname`)).code).toBe(7);
    await cluster.waitForEndpoints('web', 2);
  });

  it('refuses a port the service does not have, with kubectl\'s message', async () => {
    const r = await knet('port-forward', 'svc/web', '9999');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: Service web does not have a service port 9999\n');
  });
});

describe('knet get svc -o wide and describe svc', () => {
  it('shows the endpoints in use', async () => {
    const ips = await cluster.readyEndpoints('web');
    const r = await knet('get', 'svc', 'web', '-o', 'wide');
    const [header, row] = r.stdout.trim().split('\n');
    expect(header).toMatch(/SELECTOR\s+ENDPOINTS$/);
    for (const ip of ips) expect(row).toContain(`${ip}:8080`);
  });

  it('shows a listener the proxy could not bind as a Warning event, with the fix', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen({ host: '127.60.4.1', port: 8080 }, r));
    try {
      // Not waiting for readiness: apply would (rightly) fail on this very event.
      await cluster.apply(`apiVersion: v1
kind: Service
metadata: { name: web-ext }
spec:
  selector: { app: web }
  externalIPs: [127.60.4.1]
  ports: [{ port: 8080, targetPort: 8080 }]
`, { wait: false });
      let text = '';
      await cluster.waitFor(async () => (text = (await knet('describe', 'svc', 'web-ext')).stdout).includes('FailedToBindServicePort'), 'describe to show the event', 20_000, async () => text);
      expect(text).toMatch(/Warning\s+FailedToBindServicePort\s+.*cannot bind 127\.60\.4\.1:8080\/TCP: another program holds it.*Fix/);
      // knet get svc says so too, under the table (on stderr, as kubectl's warnings).
      const get = await knet('get', 'svc', 'web-ext');
      expect(get.stdout).toMatch(/^web-ext\s+ClusterIP/m);
      expect(get.stderr).toMatch(/^Warning: service default\/web-ext: cannot bind 127\.60\.4\.1:8080\/TCP: another program holds it.*Fix/m);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    // Once the address is free the proxy's retry binds it, and the warning is gone.
    let stderr = '';
    await cluster.waitFor(async () => (stderr = (await knet('get', 'svc', 'web-ext')).stderr) === '', 'the warning to clear after the bind succeeds', 30_000, async () => stderr);
  });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen({ host: '127.0.0.1', port: 0 }, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
