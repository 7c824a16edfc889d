/**
 * `knet apply`: the apiserver's write path for a batch of manifests, all or nothing.
 *
 *   manifest → kind check → defaults → validation → (update: immutability) →
 *   allocation (Services) → unchanged? skip : one atomic commit of every write
 *
 * Any error anywhere means nothing is written, and the error names the file, the document,
 * the object, the field and the reason. Re-applying an unchanged manifest writes nothing (no
 * new resourceVersion). Allocation races with other writers are caught by the commit script
 * and retried from a fresh read.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { CommitOp } from '../store/commit-script.js';
import { StoreError } from '../store/errors.js';
import { KINDS, isKind, keyOf, type KObject, type Kind } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';
import { allocateService, emptyTaken, ownerOf, type Pool, type Taken } from './service-allocation.js';
import type { ManifestDoc } from './manifests.js';
import { admit, admitUpdate } from './admission.js';
import { threeWayMerge, withLastApplied } from './three-way-merge.js';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  object: KObject;
  action: ApplyAction;
}

export class ApplyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ApplyError';
  }
}

/** Namespaces every cluster has. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

interface Planned {
  doc: ManifestDoc;
  object: KObject;
  current: KObject | undefined;
}

export async function applyManifests(store: ObjectStore, config: ClusterConfig, docs: ManifestDoc[]): Promise<ApplyResult[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await applyOnce(store, config, docs);
    } catch (err) {
      const retriable = err instanceof StoreError && (err.reason === 'Conflict' || (err.reason === 'Invalid' && err.message.includes('already allocated')));
      if (!retriable || attempt >= 4) throw err;
    }
  }
}

async function applyOnce(store: ObjectStore, config: ClusterConfig, docs: ManifestDoc[]): Promise<ApplyResult[]> {
  const problems: string[] = [];
  const where = (d: ManifestDoc) => `${d.source} (document ${d.index})`;

  // 1. Kind, defaults and validation of each document on its own.
  const admitted: Array<{ doc: ManifestDoc; object: KObject }> = [];
  for (const doc of docs) {
    const { apiVersion, kind } = doc.object;
    if (typeof kind !== 'string' || !kind) {
      problems.push(`${where(doc)}: Object 'Kind' is missing`);
      continue;
    }
    if (!isKind(kind) || KINDS[kind].apiVersion !== apiVersion) {
      problems.push(`${where(doc)}: no matches for kind "${kind}" in version "${apiVersion}"`);
      continue;
    }
    const { object, errors } = admit(doc.object);
    if (errors.length > 0) {
      problems.push(`${where(doc)}: ${kind} "${doc.object.metadata?.name ?? ''}" is invalid: ${errors.join('; ')}`);
      continue;
    }
    admitted.push({ doc, object });
  }
  if (problems.length) throw new ApplyError(problems);

  // A later document for the same object wins, as sequential kubectl applies would leave it.
  const byKey = new Map<string, { doc: ManifestDoc; object: KObject }>();
  for (const a of admitted) byKey.set(`${a.object.kind}|${keyOf(a.object)}`, a);

  // 2. Namespaces must exist (or be created by this same apply). Read together with what
  // exists of each object (step 3): one round trip to the store instead of two in a row.
  // Only the namespaces this apply uses and does not create are read (none for `default`).
  const currents = Promise.all([...byKey.values()].map(({ object }) => store.get(object.kind as Kind, object.metadata?.namespace, object.metadata?.name ?? '')));
  currents.catch(() => {});
  const namespaces = new Set(BUILTIN_NAMESPACES);
  for (const { object } of byKey.values()) if (object.kind === 'Namespace') namespaces.add(object.metadata?.name ?? '');
  const used = new Set<string>();
  for (const { object } of byKey.values()) {
    const ns = object.metadata?.namespace;
    if (KINDS[object.kind as Kind].namespaced && ns && !namespaces.has(ns)) used.add(ns);
  }
  const found = await Promise.all([...used].map(async (ns) => ((await store.get('Namespace', undefined, ns)) ? ns : undefined)));
  for (const ns of found) if (ns) namespaces.add(ns);
  for (const { doc, object } of byKey.values()) {
    const ns = object.metadata?.namespace;
    if (KINDS[object.kind as Kind].namespaced && ns && !namespaces.has(ns)) problems.push(`${where(doc)}: namespaces "${ns}" not found`);
  }
  if (problems.length) throw new ApplyError(problems);

  // 3. Read what exists, check updates, allocate.
  const existing = await currents;
  const planned: Planned[] = [...byKey.values()].map(({ doc, object }, i) => ({ doc, object, current: existing[i] }));
  const taken = planned.some((p) => p.object.kind === 'Service') ? await readTaken(store) : emptyTaken();
  const ops: CommitOp[] = [];
  const written: KObject[] = [];
  const results: ApplyResult[] = [];
  for (const p of planned) {
    const kind = p.object.kind as Kind;
    const name = p.object.metadata?.name ?? '';
    let next: KObject;
    let claims: Array<[Pool, string]> = [];
    let releases: Array<[Pool, string]> = [];
    if (p.current) {
      const admitted = admitUpdate(p.current, threeWayMerge(p.current, p.doc.object));
      if (admitted.errors.length) {
        problems.push(`${where(p.doc)}: ${kind} "${name}" is invalid: ${admitted.errors.join('; ')}`);
        continue;
      }
      next = store.prepareUpdate(p.current, admitted.object);
    } else {
      const annotated = withLastApplied(p.doc.object);
      next = store.prepareCreate({ ...p.object, metadata: { ...p.object.metadata, annotations: annotated.metadata?.annotations }, status: undefined });
      delete next.status;
    }
    if (kind === 'Service') {
      const alloc = allocateService(next as Service, p.current as Service | undefined, taken, config);
      if (alloc.errors.length) {
        problems.push(`${where(p.doc)}: Service "${name}" is invalid: ${alloc.errors.join('; ')}`);
        continue;
      }
      next = alloc.service as KObject;
      claims = alloc.claims;
      releases = alloc.releases;
    }
    if (p.current && sameObject(p.current, next)) {
      results.push({ object: p.current, action: 'unchanged' });
      continue;
    }
    ops.push({
      kind,
      key: keyOf(next),
      mode: p.current ? 'update' : 'create',
      expectRv: p.current?.metadata?.resourceVersion,
      json: store.serialize(next),
      claims,
      releases,
      owner: kind === 'Service' ? ownerOf(next as Service) : undefined,
    });
    written.push(next);
    results.push({ object: next, action: p.current ? 'configured' : 'created' });
  }
  if (problems.length) throw new ApplyError(problems);

  const rvs = await store.commit(ops, written);
  let i = 0;
  for (const r of results) {
    if (r.action === 'unchanged') continue;
    r.object = { ...r.object, metadata: { ...r.object.metadata, resourceVersion: String(rvs[i++]) } };
  }
  return results;
}

export async function readTaken(store: ObjectStore): Promise<Taken> {
  const taken = emptyTaken();
  for (const pool of Object.keys(taken) as Pool[]) {
    const all = await store.redis.hgetall(store.keys.allocations(pool));
    for (const [value, owner] of Object.entries(all)) taken[pool].set(value, owner);
  }
  return taken;
}

/** Equal apart from the resourceVersion: nothing to write. */
function sameObject(a: KObject, b: KObject): boolean {
  return stableJson(strip(a)) === stableJson(strip(b));
}

function strip(o: KObject): KObject {
  const { resourceVersion: _rv, ...md } = o.metadata ?? {};
  return { ...o, metadata: md };
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}
