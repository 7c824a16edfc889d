/**
 * The user's kubeconfig file, written as kind writes it (sigs.k8s.io/kind
 * pkg/cluster/internal/kubeconfig/internal/kubeconfig): `knet up` merges its entry into the first
 * existing file of $KUBECONFIG, else the last one listed, else ~/.kube/config, and makes it
 * current; `knet down` removes exactly that entry again. Other entries are never touched.
 *
 * The file is locked the way client-go and kind lock it — `<file>.lock` created exclusively —
 * so a kubectl writing the same file at the same moment waits for us and we for it (a lock
 * library with another convention, such as a lock directory, would not exclude them).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { kubeconfigYaml, mergeEntry, removeEntry, type Kubeconfig, type KubeconfigEntry } from '../apiserver/kubeconfig.js';

/** The file kind would write: first existing $KUBECONFIG entry, else the last, else ~/.kube/config. */
export function kubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const list = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  const existing = list.find((f) => existsSync(f));
  if (existing) return existing;
  if (list.length) return list[list.length - 1]!;
  return path.join(env.HOME || os.homedir(), '.kube', 'config');
}

export function readKubeconfig(file: string): Kubeconfig {
  if (!existsSync(file)) return { apiVersion: 'v1', kind: 'Config' };
  const text = readFileSync(file, 'utf8');
  const parsed: unknown = text.trim() ? parse(text) : {};
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} is not a kubeconfig (expected a YAML mapping)`);
  return { apiVersion: 'v1', kind: 'Config', ...(parsed as Record<string, unknown>) } as Kubeconfig;
}

/** Merges the entry into `file` (created 0600 if new) and makes it current. */
export async function addToKubeconfig(file: string, entry: KubeconfigEntry): Promise<void> {
  await withLock(file, () => write(file, mergeEntry(readKubeconfig(file), entry)));
}

/** Removes the entry named `name` from `file`; nothing happens when the file or the entry is gone. */
export async function removeFromKubeconfig(file: string, name: string): Promise<void> {
  if (!existsSync(file)) return;
  await withLock(file, () => {
    const config = readKubeconfig(file);
    const has = [config.clusters, config.users, config.contexts].some((l) => l?.some((x) => x?.name === name));
    if (has || config['current-context'] === name) write(file, removeEntry(config, name));
  });
}

function write(file: string, config: Kubeconfig): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const tmp = `${file}.knet-${process.pid}.tmp`;
  writeFileSync(tmp, kubeconfigYaml(config), { mode });
  renameSync(tmp, file);
}

async function withLock(file: string, fn: () => void): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`${lock} exists: another program is writing the kubeconfig (remove the lock file if none is)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
