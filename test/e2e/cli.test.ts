/**
 * The command line as a user runs it: `knet up --detach` (one process per component), kubectl-like
 * get/describe/apply/scale/delete/events, an invalid apply that writes nothing, and `knet down`
 * leaving no process or listener behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { pidAlive } from '../../dataplane/cluster/state-dir.js';

const exec = promisify(execFile);
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-cli-'));
const cluster = `cli${process.pid}`;

async function knet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, '--state-dir', stateDir, '--cluster', cluster], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let up: { code: number; stdout: string; stderr: string };

beforeAll(async () => {
  up = await knet('up', '--detach', '-f', 'examples/quickstart', '--no-ingress');
}, 180_000);

afterAll(async () => {
  await knet('down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('knet on the command line', () => {
  it('brings the quickstart up in the background and prints what to curl', () => {
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`knet cluster "${cluster}" is up`);
    expect(up.stdout).toMatch(/curl http:\/\/127\.\d+\.\d+\.\d+\/hostname +# ClusterIP/);
  });

  it('lists pods like kubectl, with IPs and nodes in -o wide', async () => {
    const r = await knet('get', 'pods', '-o', 'wide');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(lines.slice(1)).toHaveLength(3);
    for (const l of lines.slice(1)) expect(l).toMatch(/^web-\w+-\w{5}\s+1\/1\s+Running\s+0\s+\S+\s+127\.\d+\.[12]\.\d+\s+node-[12]\s/);
    const svc = await knet('get', 'svc', 'web');
    expect(svc.stdout).toMatch(/web\s+NodePort\s+127\.\S+\s+<none>\s+80:3\d{4}\/TCP,80:3\d{4}\/UDP/);
  });

  it('rejects a bad manifest with file, document, object, field and reason, and writes nothing', async () => {
    const file = path.join(stateDir, 'bad.yaml');
    writeFileSync(file, `apiVersion: v1
kind: Service
metadata:
  name: fine
spec:
  ports: [{ port: 80 }]
---
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }
  ports: [{ port: 80 }]
`);
    const before = (await knet('get', 'svc')).stdout;
    const r = await knet('apply', '-f', file);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `error: ${file} (document 2): Service "broken" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400`,
    );
    expect((await knet('get', 'svc')).stdout.replace(/\s+\S+$/gm, '')).toBe(before.replace(/\s+\S+$/gm, ''));
  });

  it('applies, scales, describes and deletes', async () => {
    const file = path.join(stateDir, 'echo.yaml');
    writeFileSync(file, readFileSync('examples/quickstart/app.yaml', 'utf8').replaceAll('name: web', 'name: echo').replaceAll('app: web', 'app: echo').replace('replicas: 3', 'replicas: 1').replace('  type: NodePort\n', ''));
    const applied = await knet('apply', '-f', file, '--wait');
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('deployment.apps/echo created');
    expect((await knet('apply', '-f', file)).stdout).toContain('deployment.apps/echo unchanged');
    expect((await knet('scale', 'deploy/echo', '--replicas', '2')).stdout.trim()).toBe('deployment.apps/echo scaled');
    const pods = await knet('get', 'pods', '-l', 'app=echo', '-o', 'name');
    expect(pods.code).toBe(0);
    const podName = pods.stdout.trim().split('\n')[0]!.replace('pod/', '');
    const d = await knet('describe', 'pod', podName);
    expect(d.stdout).toMatch(/^Name:\s+echo-/m);
    expect(d.stdout).toMatch(/^Events:/m);
    expect(d.stdout).toContain('Scheduled');
    const events = await knet('events');
    expect(events.stdout).toMatch(/Normal\s+Scheduled\s+pod\/echo-/);
    expect((await knet('delete', 'svc', 'echo')).stdout.trim()).toBe('service/echo deleted');
    const gone = await knet('get', 'svc', 'echo');
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('error: svc "echo" not found');
  });

  it('stops everything on knet down', async () => {
    const file = JSON.parse(readFileSync(path.join(stateDir, cluster, 'cluster.json'), 'utf8')) as { supervisorPid: number; processes: Record<string, number> };
    const r = await knet('down');
    expect(r.stdout.trim()).toBe(`cluster "${cluster}" stopped`);
    // Exited (an exited `up` may wait a moment to be reaped by PID 1: pidAlive says it is gone).
    for (const pid of [file.supervisorPid, ...Object.values(file.processes)]) expect(pidAlive(pid), String(pid)).toBe(false);
  });
});
