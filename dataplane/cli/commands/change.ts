/** Commands that change the cluster: apply, delete, scale, rollout restart, node stop|start. */
import type { Node } from 'kubernetes-types/core/v1.js';
import { KINDS, type KObject, type Kind } from '../../model/object.js';
import { applyManifests } from '../../api/apply.js';
import { readManifestPaths } from '../../api/manifests.js';
import { FAULT_ANNOTATION } from '../../node/node-object.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';
import { resolveKind } from '../resources.js';
import { toName } from './output.js';
import { waitForReady } from '../../cluster/readiness.js';

export async function applyCommand(files: string[], opts: GlobalOptions & { wait?: boolean; timeout?: number }, out: (s: string) => void): Promise<void> {
  if (!files.length) throw new UsageError('must specify one of -f');
  const docs = readManifestPaths(files);
  const conn = await connect(opts);
  try {
    const results = await applyManifests(conn.store, conn.config, docs);
    for (const r of results) out(`${toName(r.object.kind as Kind, r.object)} ${r.action}`);
    if (opts.wait) await waitForReady(conn.store, results.map((r) => r.object), { timeoutMs: (opts.timeout ?? 60) * 1000, onProgress: (w) => out(`waiting: ${w.join('; ')}`) });
  } finally {
    await conn.close();
  }
}

export async function deleteCommand(
  args: string[],
  opts: GlobalOptions & { filename?: string[]; namespace?: string; gracePeriod?: number; ignoreNotFound?: boolean },
  out: (s: string) => void,
): Promise<void> {
  const targets: Array<{ kind: Kind; namespace?: string; name: string }> = [];
  if (opts.filename?.length) {
    for (const d of readManifestPaths(opts.filename)) {
      const kind = resolveKind(String(d.object.kind));
      targets.push({ kind, namespace: KINDS[kind].namespaced ? (d.object.metadata?.namespace ?? opts.namespace ?? 'default') : undefined, name: d.object.metadata?.name ?? '' });
    }
  } else {
    const [kindArg, ...names] = args.flatMap((a) => (a.includes('/') ? a.split('/') : [a]));
    if (!kindArg || !names.length) throw new UsageError('usage: knet delete (-f FILE | KIND NAME…)');
    const kind = resolveKind(kindArg);
    for (const name of names) targets.push({ kind, namespace: KINDS[kind].namespaced ? (opts.namespace ?? 'default') : undefined, name });
  }
  const conn = await connect(opts);
  try {
    for (const t of targets) {
      try {
        const obj = await conn.store.delete(t.kind, t.namespace, t.name, { gracePeriodSeconds: opts.gracePeriod });
        out(`${toName(t.kind, obj)} deleted`);
      } catch (err) {
        if (opts.ignoreNotFound && (err as { reason?: string }).reason === 'NotFound') continue;
        throw err;
      }
    }
  } finally {
    await conn.close();
  }
}

function splitRef(ref: string, fallbackKind?: string): { kind: Kind; name: string } {
  const [k, n] = ref.includes('/') ? ref.split('/') : [fallbackKind ?? '', ref];
  if (!k || !n) throw new UsageError(`expected KIND/NAME, got "${ref}"`);
  return { kind: resolveKind(k), name: n };
}

export async function scaleCommand(ref: string, opts: GlobalOptions & { replicas: number; namespace?: string }, out: (s: string) => void): Promise<void> {
  const { kind, name } = splitRef(ref);
  if (!['Deployment', 'ReplicaSet', 'StatefulSet'].includes(kind)) throw new UsageError(`cannot scale ${kind}`);
  if (!Number.isInteger(opts.replicas) || opts.replicas < 0) throw new UsageError('--replicas must be a non-negative integer');
  const conn = await connect(opts);
  try {
    const ns = opts.namespace ?? 'default';
    const done = await conn.store.mutate<KObject & { spec?: { replicas?: number } }>(kind, ns, name, (o) => ({ ...o, spec: { ...o.spec, replicas: opts.replicas } }));
    if (!done) throw new Error(`${kind.toLowerCase()}s "${name}" not found`);
    out(`${toName(kind, done)} scaled`);
  } finally {
    await conn.close();
  }
}

export async function rolloutRestartCommand(ref: string, opts: GlobalOptions & { namespace?: string }, out: (s: string) => void): Promise<void> {
  const { kind, name } = splitRef(ref, 'deployment');
  if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(kind)) throw new UsageError(`cannot restart ${kind}`);
  const conn = await connect(opts);
  try {
    type Workload = KObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
    const done = await conn.store.mutate<Workload>(kind, opts.namespace ?? 'default', name, (o) => {
      const t = o.spec?.template ?? {};
      return { ...o, spec: { ...o.spec, template: { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } };
    });
    if (!done) throw new Error(`${kind.toLowerCase()}s "${name}" not found`);
    out(`${toName(kind, done)} restarted`);
  } finally {
    await conn.close();
  }
}

export async function nodeFaultCommand(action: 'stop' | 'start', name: string, opts: GlobalOptions, out: (s: string) => void): Promise<void> {
  const conn = await connect(opts);
  try {
    const done = await conn.store.mutate<Node>('Node', undefined, name, (n) => {
      const annotations = { ...n.metadata?.annotations };
      if (action === 'stop') annotations[FAULT_ANNOTATION] = 'stopped';
      else delete annotations[FAULT_ANNOTATION];
      return { ...n, metadata: { ...n.metadata, annotations } };
    });
    if (!done) throw new Error(`nodes "${name}" not found`);
    out(action === 'stop' ? `node/${name} stopped (heartbeats paused; NotReady after ${conn.config.nodeGraceSeconds}s)` : `node/${name} started`);
  } finally {
    await conn.close();
  }
}
