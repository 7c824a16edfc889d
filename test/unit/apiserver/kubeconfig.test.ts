import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addToKubeconfig, kubeconfigPath, removeFromKubeconfig } from '../../../dataplane/cluster/kubeconfig-file.js';
import type { KubeconfigEntry } from '../../../dataplane/apiserver/kubeconfig.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry: KubeconfigEntry = {
  name: 'knet-default',
  cluster: { server: 'https://127.18.0.1:6443', 'certificate-authority-data': 'Q0E=' },
  user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' },
};

describe('the kubeconfig file, as kind writes it', () => {
  it('picks the first existing $KUBECONFIG file, else the last listed, else ~/.kube/config', () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    expect(kubeconfigPath({ KUBECONFIG: `${a}:${b}`, HOME: dir })).toBe(b);
    writeFileSync(a, '');
    expect(kubeconfigPath({ KUBECONFIG: `${a}:${b}`, HOME: dir })).toBe(a);
    expect(kubeconfigPath({ HOME: dir })).toBe(path.join(dir, '.kube', 'config'));
    rmSync(a);
  });

  it('merges its entry, makes it current, keeps the others, and removes exactly what it added', async () => {
    const file = path.join(dir, 'config');
    const other = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'prod',
      clusters: [{ name: 'prod', cluster: { server: 'https://prod:6443' } }],
      users: [{ name: 'prod', user: { token: 't' } }],
      contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'prod' } }],
    };
    writeFileSync(file, JSON.stringify(other), { mode: 0o600 });
    await addToKubeconfig(file, entry);
    const merged = parse(readFileSync(file, 'utf8'));
    expect(merged['current-context']).toBe('knet-default');
    expect(merged.clusters.map((c: { name: string }) => c.name)).toEqual(['prod', 'knet-default']);
    expect(merged.users[1].user['client-key-data']).toBe('S0VZ');
    await addToKubeconfig(file, entry); // idempotent
    expect(parse(readFileSync(file, 'utf8')).contexts).toHaveLength(2);
    await removeFromKubeconfig(file, 'knet-default');
    const after = parse(readFileSync(file, 'utf8'));
    expect(after.clusters).toEqual(other.clusters);
    expect(after.users).toEqual(other.users);
    expect(after.contexts).toEqual(other.contexts);
    expect(after['current-context']).toBe('');
  });

  it('creates a new file 0600 and leaves no lock behind', async () => {
    const file = path.join(dir, 'new', 'config');
    await addToKubeconfig(file, entry);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => statSync(`${file}.lock`)).toThrow();
  });
});
