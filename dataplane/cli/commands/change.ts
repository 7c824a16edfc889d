/** Commands that change the cluster: apply, delete, scale, rollout restart, node stop|start. */
import { KINDS, type KObject, type Kind } from '../../base/model/object.js';
import { applyManifests } from '../../base/admission/apply.js';
import { deleteObjects, mutateObject, type PropagationPolicy } from '../../base/admission/writes.js';
import { readManifestPaths } from '../../base/admission/manifests.js';
import { connect, UsageError, type Connection, type GlobalOptions } from '../connect.js';
import { resolveKind } from '../../base/printers/resources.js';
import { parseResourceArgs, requireNames } from '../resource-args.js';
import type { ObjectRef } from '../../base/store/object-store.js';
import { resourceName } from '../../base/store/errors.js';
import { toName } from './output.js';
import { waitForReady } from '../../cluster/readiness.js';
import { ANNOTATION_RESTARTED_AT, FAULT_ANNOTATION } from '../../base/model/well-known.js';
import { metaTime } from '../../base/model/meta-time.js';

export async function applyCommand(files: string[], opts: GlobalOptions & { wait?: boolean; timeout?: number }, out: (s: string) => void): Promise<void> {
  if (!files.length) throw new UsageError('must specify one of -f');
  const docs = readManifestPaths(files);
  // kubectl's words for an empty file, a directory without manifests, or only `---` and comments.
  if (docs.length === 0) throw new Error('no objects passed to apply');
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
  opts: GlobalOptions & { filename?: string[]; namespace?: string; gracePeriod?: number; cascade?: string; ignoreNotFound?: boolean },
  out: (s: string) => void,
): Promise<void> {
  const propagationPolicy = cascadePolicy(opts.cascade);
  const targets: ObjectRef[] = [];
  const where = (kind: Kind, namespace?: string) => (KINDS[kind].namespaced ? (namespace ?? opts.namespace ?? 'default') : undefined);
  if (opts.filename?.length) {
    if (args.length) throw new UsageError('cannot delete both by file (-f) and by TYPE NAME');
    for (const d of readManifestPaths(opts.filename)) {
      const kind = resolveKind(String(d.object.kind));
      targets.push({ kind, namespace: where(kind, d.object.metadata?.namespace), name: d.object.metadata?.name ?? '' });
    }
  } else {
    if (!args.length) throw new UsageError('usage: knet delete (-f FILE | TYPE NAME… | TYPE/NAME…)');
    const groups = parseResourceArgs(args, 'delete');
    requireNames(groups);
    for (const g of groups) for (const name of g.names) targets.push({ kind: g.kind, namespace: where(g.kind), name });
  }
  const conn = await connect(opts);
  try {
    // One batch: one read per kind and commits of many objects; dependents are the garbage collector's.
    const outcomes = await deleteObjects(conn.store, targets, { propagationPolicy, ...(opts.gracePeriod === undefined ? {} : { gracePeriodSeconds: opts.gracePeriod }) });
    let failed = false;
    for (const o of outcomes) {
      if ('object' in o) out(`${toName(o.target.kind, o.object)} deleted`);
      else if (!(opts.ignoreNotFound && o.error.reason === 'NotFound')) {
        // kubectl reports each object it could not delete and carries on with the rest.
        process.stderr.write(`Error from server (${o.error.reason}): ${o.error.message}\n`);
        failed = true;
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    await conn.close();
  }
}

/** kubectl's --cascade: background (the default), foreground or orphan (true and false as its deprecated spellings). */
export function cascadePolicy(cascade: string | undefined): PropagationPolicy {
  switch (cascade ?? 'background') {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
    default:
      throw new UsageError(`invalid cascade value (${cascade}). Must be "background", "foreground", or "orphan".`);
  }
}

/** The named objects of `args` (TYPE NAME… or TYPE/NAME…), or with a type alone every object of it in the namespace. */
async function resolveTargets(conn: Connection, args: string[], command: string, namespace: string, allowTypeOnly: boolean): Promise<Array<{ kind: Kind; name: string }>> {
  const groups = parseResourceArgs(args, command);
  if (!allowTypeOnly) requireNames(groups);
  const out: Array<{ kind: Kind; name: string }> = [];
  for (const g of groups) {
    const names = g.names.length ? g.names : (await conn.store.list(g.kind, namespace)).items.map((o) => o.metadata?.name ?? '');
    for (const name of names) out.push({ kind: g.kind, name });
  }
  return out;
}

export async function scaleCommand(args: string[], opts: GlobalOptions & { replicas: number; namespace?: string }, out: (s: string) => void): Promise<void> {
  const groups = parseResourceArgs(args, 'scale');
  requireNames(groups);
  for (const g of groups) if (!['Deployment', 'ReplicaSet', 'StatefulSet'].includes(g.kind)) throw new UsageError(`cannot scale ${g.kind}`);
  if (!Number.isInteger(opts.replicas) || opts.replicas < 0) throw new UsageError('--replicas must be a non-negative integer');
  const conn = await connect(opts);
  try {
    const ns = opts.namespace ?? 'default';
    for (const { kind, name } of await resolveTargets(conn, args, 'scale', ns, false)) {
      // Through admission, as the apiserver's scale subresource writes it.
      const done = await mutateObject(conn.store, conn.config, kind, ns, name, (o) => ({ ...o, spec: { ...(o.spec as object), replicas: opts.replicas } }));
      out(`${toName(kind, done.object)} scaled`);
    }
  } finally {
    await conn.close();
  }
}

/** `knet rollout restart TYPE [NAME…]`: a type alone restarts every object of it in the namespace, as kubectl does. */
export async function rolloutRestartCommand(args: string[], opts: GlobalOptions & { namespace?: string }, out: (s: string) => void): Promise<void> {
  parseResourceArgs(args, 'restart'); // usage errors before connecting
  const conn = await connect(opts);
  try {
    const ns = opts.namespace ?? 'default';
    const targets = await resolveTargets(conn, args, 'restart', ns, true);
    if (!targets.length) throw new Error('no objects passed to restart');
    const fixed = targets.find((t) => !['Deployment', 'StatefulSet', 'DaemonSet'].includes(t.kind));
    if (fixed) throw new UsageError(`${resourceName(fixed.kind)} "${fixed.name}" restarting is not supported`);
    type Workload = KObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
    for (const { kind, name } of targets) {
      const done = await mutateObject(conn.store, conn.config, kind, ns, name, (obj) => {
        const o = obj as Workload;
        const t = o.spec?.template ?? {};
        return { ...o, spec: { ...o.spec, template: { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata?.annotations, [ANNOTATION_RESTARTED_AT]: metaTime() } } } } };
      });
      out(`${toName(kind, done.object)} restarted`);
    }
  } finally {
    await conn.close();
  }
}

export async function nodeFaultCommand(action: 'stop' | 'start', name: string, opts: GlobalOptions, out: (s: string) => void): Promise<void> {
  const conn = await connect(opts);
  try {
    await mutateObject(conn.store, conn.config, 'Node', undefined, name, (n) => {
      const annotations = { ...n.metadata?.annotations };
      if (action === 'stop') annotations[FAULT_ANNOTATION] = 'stopped';
      else delete annotations[FAULT_ANNOTATION];
      return { ...n, metadata: { ...n.metadata, annotations } };
    });
    out(action === 'stop' ? `node/${name} stopped (heartbeats paused; NotReady after ${conn.config.nodeGraceSeconds}s)` : `node/${name} started`);
  } finally {
    await conn.close();
  }
}
