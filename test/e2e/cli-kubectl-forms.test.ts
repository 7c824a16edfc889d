/**
 * The command line where kubectl has a behaviour to match (issue 18, item 7), run as a user runs
 * it — the built CLI against a cluster from `knet up --detach`:
 *  - an empty file to apply: `error: no objects passed to apply`, exit 1;
 *  - binary garbage on stdin: one short escaped line, not the bytes echoed back;
 *  - `TYPE NAME…` and `TYPE/NAME…` for every command that takes a resource, and kubectl's errors
 *    for mixing them or leaving the name out;
 *  - delete of objects that are partly missing reports each missing one and deletes the rest;
 *    `delete -f` of a few hundred objects (its speed is measured in test/bench/store);
 *  - `knet up --allow-external-ips` stored with the cluster: a Service may then use this machine's
 *    interface address (the cluster runs no proxy, so nothing listens on it), while other clusters'
 *    addresses stay refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agnhostWeb } from '../support/agnhost.js';
import { runKnet, type CliResult } from '../support/knet-cli.js';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'knet-cli-forms-'));
const cluster = `forms${process.pid}`;

const knet = (...args: string[]) => runKnet([...args, '--state-dir', stateDir, '--cluster', cluster], { timeoutMs: 120_000 });
/** `knet …` with `input` on stdin. */
const knetWithInput = (input: Uint8Array, ...args: string[]) => runKnet([...args, '--state-dir', stateDir, '--cluster', cluster], { input });

const file = (name: string, text: string) => {
  const p = path.join(stateDir, name);
  writeFileSync(p, text);
  return p;
};

const web = agnhostWeb({ name: 'web' });

let up: CliResult;

beforeAll(async () => {
  up = await knet('up', '--detach', '--nodes', '1', '--no-proxy', '--no-dns', '--no-ingress', '--allow-external-ips', '-f', file('web.yaml', web));
}, 180_000);

afterAll(async () => {
  await knet('down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('apply input as kubectl reads it', () => {
  it('is up, and says that Services may leave loopback', () => {
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('note: --allow-external-ips: Services may listen on addresses outside loopback');
  });

  it('refuses an empty file, and one of only separators and comments, with kubectl\'s words', async () => {
    for (const text of ['', '---\n# nothing here\n---\n']) {
      const r = await knet('apply', '-f', file('empty.yaml', text));
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'error: no objects passed to apply\n' });
    }
  });

  it('does not echo binary garbage from stdin: one short escaped line', async () => {
    // 34 KB of bytes from a fixed generator: invalid UTF-8, control characters, everything.
    const garbage = Buffer.alloc(34_000);
    let x = 2463534242;
    for (let i = 0; i < garbage.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      garbage[i] = x & 0xff;
    }
    const r = await knetWithInput(garbage, 'apply', '-f', '-');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: <stdin>: invalid YAML: line \d+, column \d+: (invalid (leading|trailing) UTF-8 octet|control characters are not allowed) near "[^"]*"…\n$/);
    expect(r.stderr.length).toBeLessThan(200);
    expect(r.stderr).toMatch(/^[\x20-\x7e…\n]*$/);
  });
});

describe('TYPE NAME and TYPE/NAME', () => {
  const replicas = async () => JSON.parse((await knet('get', 'deploy/web', '-o', 'json')).stdout).spec.replicas as number;

  // First, while the Deployment's one pod is settled (scale and restart below replace pods).
  it('logs takes a pod, pod/NAME, or a workload whose pod it picks', async () => {
    const pod = (await knet('get', 'pods', '-l', 'app=web', '-o', 'name')).stdout.trim().split('\n')[0]!;
    const byName = await knet('logs', pod.replace('pod/', ''));
    expect(byName.code).toBe(0);
    expect(await knet('logs', pod)).toEqual(byName);
    expect((await knet('logs', 'deploy/web')).code).toBe(0);
    expect(await knet('logs', 'deploy/nope')).toMatchObject({ code: 1, stderr: 'error: deployments.apps "nope" not found\n' });
  });

  it('scale takes both forms', async () => {
    expect(await knet('scale', 'deploy', 'web', '--replicas', '3')).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
    expect(await replicas()).toBe(3);
    expect(await knet('scale', 'deployment/web', '--replicas', '2')).toMatchObject({ code: 0, stdout: 'deployment.apps/web scaled\n' });
    expect(await replicas()).toBe(2);
  });

  it('rollout restart takes both forms, and a type alone restarts all of it', async () => {
    const restartedAt = async () => JSON.parse((await knet('get', 'deploy', 'web', '-o', 'json')).stdout).spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] as string | undefined;
    expect(await knet('rollout', 'restart', 'deploy', 'web')).toMatchObject({ code: 0, stdout: 'deployment.apps/web restarted\n' });
    const first = await restartedAt();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await knet('rollout', 'restart', 'deployment/web')).toMatchObject({ code: 0, stdout: 'deployment.apps/web restarted\n' });
    expect(await knet('rollout', 'restart', 'deployments')).toMatchObject({ code: 0, stdout: 'deployment.apps/web restarted\n' });
    // RFC 3339 to the second, as kubectl writes it: restarts within one second carry the same time.
    expect(Date.parse((await restartedAt())!)).toBeGreaterThanOrEqual(Date.parse(first!));
    expect(await restartedAt()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await knet('rollout', 'restart', 'svc', 'web')).toMatchObject({ code: 1, stderr: 'error: services "web" restarting is not supported\n' });
  });

  it('get and describe take both forms; several types print a table each, names prefixed', async () => {
    const two = await knet('get', 'deploy/web', 'svc/web');
    expect(two.code).toBe(0);
    const [deployTable, svcTable] = two.stdout.trimEnd().split('\n\n');
    expect(deployTable).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment\.apps\/web\s+/);
    expect(svcTable).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nservice\/web\s+ClusterIP\s+/);
    expect((await knet('get', 'svc', 'web', '-o', 'name')).stdout).toBe('service/web\n');
    expect((await knet('get', 'svc/web', '-o', 'name')).stdout).toBe('service/web\n');
    for (const args of [['describe', 'svc', 'web'], ['describe', 'svc/web']]) {
      const d = await knet(...args);
      expect(d.code).toBe(0);
      expect(d.stdout).toMatch(/^Name:\s+web\nNamespace:\s+default\n/);
    }
  });

  it("mixing the forms, or leaving the name out, fails with kubectl's words", async () => {
    expect(await knet('scale', 'deploy', 'deploy/web', '--replicas', '1')).toMatchObject({
      code: 1,
      stderr:
        "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'knet get resource/<resource_name>' instead of 'knet get resource resource/<resource_name>'\n",
    });
    expect(await knet('scale', 'deploy', '--replicas', '1')).toMatchObject({ code: 1, stderr: 'error: resource(s) were provided, but no name was specified\n' });
    expect(await knet('get', 'deploy/web/x')).toMatchObject({ code: 1, stderr: 'error: arguments in resource/name form may not have more than one slash\n' });
    expect(await knet('delete', 'cm/')).toMatchObject({ code: 1, stderr: 'error: arguments in resource/name form must have a single resource and name\n' });
  });

  it('delete takes both forms, reports what it could not find and deletes the rest', async () => {
    const cms = ['a', 'b', 'c', 'd'].map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n} }\n`).join('---\n');
    expect((await knet('apply', '-f', file('cms.yaml', cms))).code).toBe(0);
    expect(await knet('delete', 'configmap', 'a', 'nope', 'b')).toEqual({
      code: 1,
      stdout: 'configmap/a deleted\nconfigmap/b deleted\n',
      stderr: 'Error from server (NotFound): configmaps "nope" not found\n',
    });
    expect(await knet('delete', 'cm/c', 'configmaps/d')).toEqual({ code: 0, stdout: 'configmap/c deleted\nconfigmap/d deleted\n', stderr: '' });
    expect(await knet('delete', 'cm', 'a', '--ignore-not-found')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('delete -f deletes every object of a large file', async () => {
    const n = 300;
    const many = file('many.yaml', Array.from({ length: n }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: many-${i} }\n`).join('---\n'));
    expect((await knet('apply', '-f', many)).stdout.trim().split('\n')).toHaveLength(n);
    const r = await knet('delete', '-f', many);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(Array.from({ length: n }, (_, i) => `configmap/many-${i} deleted`));
    expect((await knet('get', 'cm', '-o', 'name')).stdout).not.toContain('many-');
  });
});

describe('knet up --allow-external-ips', () => {
  const service = (name: string, ip: string) => `apiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  externalIPs: [${ip}]\n  ports: [{ port: 80 }]\n`;

  it("lets a Service use this machine's interface address (validation only: no proxy runs here)", async () => {
    const ip =
      Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a?.family === 'IPv4' && !a.internal)?.address ?? '192.0.2.10';
    const r = await knet('apply', '-f', file('outside.yaml', service('outside', ip)));
    expect(r).toMatchObject({ code: 0, stdout: 'service/outside created\n' });
    expect(JSON.parse((await knet('get', 'svc', 'outside', '-o', 'json')).stdout).spec.externalIPs).toEqual([ip]);
  });

  it("still refuses another cluster's addresses, with a kubectl-style field error and nothing written", async () => {
    const path = file('across.yaml', service('across', '127.96.0.5'));
    const r = await knet('apply', '-f', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${path} (document 1): Service "across" is invalid: spec.externalIPs[0]: Invalid value: "127.96.0.5": may not be in 127.96.0.0/12, address block 0 (the default cluster) of another knet cluster on this machine: it would take that cluster's traffic\n`,
    );
    expect((await knet('get', 'svc', 'across')).code).toBe(1);
  });
});
