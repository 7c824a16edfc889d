/**
 * The headline of the Kubernetes API: after `knet up -d`, `kubectl get pods` works with no flag,
 * because knet merged its context into the kubeconfig kind would write to; `knet down` removes
 * exactly that and leaves the user's other entries alone. HOME and KUBECONFIG are temp dirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { kubectl } from '../support/kubectl.js';

const exec = promisify(execFile);
const home = mkdtempSync(path.join(os.tmpdir(), 'knet-up-home-'));
const stateDir = path.join(home, 'state');
const cluster = `up${process.pid}`;
// No KUBECONFIG: ~/.kube/config of this temp HOME is the file, as for a user without the variable.
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
delete env.KUBECONFIG;
const kubeconfig = path.join(home, '.kube', 'config');
const theirs = {
  apiVersion: 'v1',
  kind: 'Config',
  'current-context': 'theirs',
  clusters: [{ name: 'theirs', cluster: { server: 'https://192.0.2.1:6443' } }],
  users: [{ name: 'theirs', user: { token: 'secret' } }],
  contexts: [{ name: 'theirs', context: { cluster: 'theirs', user: 'theirs' } }],
};

async function knet(...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cliEntry(), ...args, '--state-dir', stateDir, '--cluster', cluster], { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let up: Awaited<ReturnType<typeof knet>>;
beforeAll(async () => {
  mkdirSync(path.dirname(kubeconfig), { recursive: true });
  writeFileSync(kubeconfig, JSON.stringify(theirs), { mode: 0o600 });
  up = await knet('up', '--detach', '-f', 'examples/quickstart', '--no-ingress', '--no-dns');
}, 180_000);
afterAll(async () => {
  await knet('down');
  rmSync(home, { recursive: true, force: true });
});

describe('knet up and kubectl', () => {
  it('merges its context into ~/.kube/config, current, beside the user\'s own', () => {
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`apiserver\\s+\\d+\\s+https://127\\.\\d+\\.18\\.1:6443 \\(kubectl context knet-${cluster}\\)`));
    const config = parse(readFileSync(kubeconfig, 'utf8'));
    expect(config['current-context']).toBe(`knet-${cluster}`);
    expect(config.clusters.map((c: { name: string }) => c.name)).toEqual(['theirs', `knet-${cluster}`]);
    expect(config.users[0]).toEqual(theirs.users[0]);
  });

  it('serves kubectl get pods with no flag', async () => {
    const r = await kubectl(env, ['get', 'pods']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
    expect(r.stdout).toMatch(/^web-\S+\s+1\/1\s+Running/m);
  });

  it('prints the kubeconfig with knet kubeconfig', async () => {
    const r = await knet('kubeconfig');
    const printed = parse(r.stdout);
    expect(printed.contexts).toEqual([{ name: `knet-${cluster}`, context: { cluster: `knet-${cluster}`, user: `knet-${cluster}` } }]);
    expect(printed.users[0].user['client-certificate-data']).toBeTruthy();
  });

  it('removes exactly its entries on knet down, and clears current-context', async () => {
    expect((await knet('down')).code).toBe(0);
    const config = parse(readFileSync(kubeconfig, 'utf8'));
    expect(config.clusters).toEqual(theirs.clusters);
    expect(config.users).toEqual(theirs.users);
    expect(config.contexts).toEqual(theirs.contexts);
    expect(config['current-context']).toBe('');
  });
});
