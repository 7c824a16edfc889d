/**
 * `knet apply`: the apiserver's write path for a batch of manifests, all or nothing.
 *
 *   manifest → kind check → defaults → validation → (update: immutability) →
 *   (create: DefaultIngressClass, DefaultStorageClass, ServiceAccount) → allocation (Services) → unchanged? skip : one atomic commit
 *
 * Any error anywhere means nothing is written, and the error names the file, the document,
 * the object, the field and the reason. Re-applying an unchanged manifest writes nothing (no
 * new resourceVersion). Allocation races with other writers are caught by the commit script
 * and retried from a fresh read.
 */
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { CommitOp } from '../store/commit-script.js';
import { namespaceTerminating, planCreate, planUpdate } from './write-plan.js';
import { StoreError } from '../store/errors.js';
import { KINDS, isKind, keyOf, type KObject, type Kind } from '../model/object.js';
import type { ClusterConfig } from '../cluster-config.js';
import { emptyTaken, type Pool, type Taken } from './service-allocation.js';
import type { ManifestDoc } from './manifests.js';
import { admit } from './admission.js';
import { admitDefaultIngressClass, wantsDefaultClass } from './default-ingress-class.js';
import { admitDefaultStorageClass, wantsDefaultStorageClass } from './default-storage-class.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { PersistentVolumeClaim, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { admitServiceAccount, podServiceAccountName, serviceAccountProblem } from './service-account.js';
import { threeWayMerge, withLastApplied, withoutLastApplied } from './three-way-merge.js';
import { PatchError } from '../patch/patch-error.js';

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
    const { object, errors } = admit(doc.object, config);
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
  // The IngressClasses, read only when an Ingress may need the default one (the admission
  // plugin's informer cache is the apiserver's equivalent).
  const wantClasses = [...byKey.values()].some(({ object }) => object.kind === 'Ingress' && wantsDefaultClass(object as Ingress));
  const storedClasses = wantClasses ? store.list<IngressClass>('IngressClass') : undefined;
  storedClasses?.catch(() => {});
  // Likewise the StorageClasses, when a claim may need the default one (DefaultStorageClass).
  const wantStorageClasses = [...byKey.values()].some(({ object }) => object.kind === 'PersistentVolumeClaim' && wantsDefaultStorageClass(object as PersistentVolumeClaim));
  const storedStorageClasses = wantStorageClasses ? store.list<StorageClass>('StorageClass') : undefined;
  storedStorageClasses?.catch(() => {});
  const namespaces = new Set(BUILTIN_NAMESPACES);
  for (const { object } of byKey.values()) if (object.kind === 'Namespace') namespaces.add(object.metadata?.name ?? '');
  const used = new Set<string>();
  for (const { object } of byKey.values()) {
    const ns = object.metadata?.namespace;
    if (KINDS[object.kind as Kind].namespaced && ns && !namespaces.has(ns)) used.add(ns);
  }
  const terminating = new Set<string>();
  const found = await Promise.all([...used].map((ns) => store.get('Namespace', undefined, ns)));
  for (const ns of found) {
    if (!ns) continue;
    namespaces.add(ns.metadata?.name ?? '');
    if (ns.metadata?.deletionTimestamp) terminating.add(ns.metadata.name ?? '');
  }
  for (const { doc, object } of byKey.values()) {
    const ns = object.metadata?.namespace;
    if (KINDS[object.kind as Kind].namespaced && ns && !namespaces.has(ns)) problems.push(`${where(doc)}: namespaces "${ns}" not found`);
  }
  if (problems.length) throw new ApplyError(problems);

  // 3. Read what exists, check updates, allocate. Nothing new goes into a namespace being
  // deleted (NamespaceLifecycle), also one this apply names.
  const existing = await currents;
  const planned: Planned[] = [...byKey.values()].map(({ doc, object }, i) => ({ doc, object, current: existing[i] }));
  for (const p of planned) if (p.current?.kind === 'Namespace' && p.current.metadata?.deletionTimestamp) terminating.add(p.current.metadata.name ?? '');
  for (const p of planned) {
    const ns = p.object.metadata?.namespace;
    if (!p.current && ns && KINDS[p.object.kind as Kind].namespaced && terminating.has(ns)) problems.push(`${where(p.doc)}: ${namespaceTerminating(p.object.kind as Kind, p.object.metadata?.name ?? '', ns).message}`);
  }
  if (problems.length) throw new ApplyError(problems);
  const taken = planned.some((p) => p.object.kind === 'Service') ? await readTaken(store) : emptyTaken();
  // Classes written earlier in this apply count, as they would with one kubectl apply per document.
  const classes = new Map((storedClasses ? (await storedClasses).items : []).map((c) => [c.metadata?.name ?? '', c]));
  const storageClasses = new Map((storedStorageClasses ? (await storedStorageClasses).items : []).map((c) => [c.metadata?.name ?? '', c]));
  const serviceAccounts = await serviceAccountsFor(store, planned);
  const ops: CommitOp[] = [];
  const written: KObject[] = [];
  const results: ApplyResult[] = [];
  for (const p of planned) {
    const kind = p.object.kind as Kind;
    const name = p.object.metadata?.name ?? '';
    let merged: KObject | undefined;
    if (p.current) {
      try {
        merged = threeWayMerge(p.current, p.doc.object);
        if (p.doc.plain) merged = withoutLastApplied(merged);
      } catch (err) {
        if (!(err instanceof PatchError)) throw err;
        problems.push(`${where(p.doc)}: ${kind} "${name}" cannot be merged with the live object: ${err.message}`);
        continue;
      }
    }
    let created = !p.current && kind === 'Ingress' ? (admitDefaultIngressClass(p.object as Ingress, classes.values()) as KObject) : p.object;
    if (!p.current && kind === 'PersistentVolumeClaim') created = admitDefaultStorageClass(p.object as PersistentVolumeClaim, storageClasses.values()) as KObject;
    if (!p.current && kind === 'Pod') {
      const pod = p.object as Pod;
      const sa = serviceAccounts.get(`${pod.metadata?.namespace}/${podServiceAccountName(pod)}`);
      const forbidden = serviceAccountProblem(pod, sa);
      if (forbidden) {
        problems.push(`${where(p.doc)}: pods "${name}" is forbidden: ${forbidden}`);
        continue;
      }
      created = admitServiceAccount(pod, sa) as KObject;
    }
    const result = p.current
      ? planUpdate(store, config, p.current, merged!, taken)
      : planCreate(store, config, p.doc.plain ? created : { ...created, metadata: { ...created.metadata, annotations: withLastApplied(p.doc.object).metadata?.annotations } }, taken);
    if (result.errors) {
      problems.push(`${where(p.doc)}: ${kind} "${name}" is invalid: ${result.errors.join('; ')}`);
      continue;
    }
    const { plan } = result;
    if (kind === 'IngressClass') classes.set(name, plan.object as IngressClass);
    if (kind === 'StorageClass') storageClasses.set(name, plan.object as StorageClass);
    if (p.current && plan.unchanged) {
      results.push({ object: p.current, action: 'unchanged' });
      continue;
    }
    ops.push(plan.op);
    written.push(plan.object);
    results.push({ object: plan.object, action: p.current ? 'configured' : 'created' });
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

/** The service accounts the pods this apply creates run as: those in the apply itself, else the store's. */
async function serviceAccountsFor(store: ObjectStore, planned: Planned[]): Promise<Map<string, ServiceAccount>> {
  const found = new Map<string, ServiceAccount>();
  for (const p of planned) if (p.object.kind === 'ServiceAccount') found.set(keyOf(p.object), p.object as ServiceAccount);
  const wanted = new Set<string>();
  for (const p of planned) {
    if (p.current || p.object.kind !== 'Pod') continue;
    const key = `${p.object.metadata?.namespace}/${podServiceAccountName(p.object as Pod)}`;
    if (!found.has(key)) wanted.add(key);
  }
  await Promise.all(
    [...wanted].map(async (key) => {
      const [ns, name] = key.split('/') as [string, string];
      const sa = await store.get<ServiceAccount>('ServiceAccount', ns, name);
      if (sa) found.set(key, sa);
    }),
  );
  return found;
}

export async function readTaken(store: ObjectStore): Promise<Taken> {
  const taken = emptyTaken();
  for (const pool of Object.keys(taken) as Pool[]) {
    const all = await store.redis.hgetall(store.keys.allocations(pool));
    for (const [value, owner] of Object.entries(all)) taken[pool].set(value, owner);
  }
  return taken;
}

export { stableJson } from './write-plan.js';
