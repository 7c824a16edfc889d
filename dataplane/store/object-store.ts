/**
 * The apiserver + etcd analog: Kubernetes-shaped objects in Redis, every write one Lua
 * script (commit-script.ts), a global resourceVersion and an event stream to watch.
 *
 * What this layer does as the apiserver does: uid, creationTimestamp, generation (bumped
 * when spec changes), status written apart from spec, optimistic concurrency on
 * resourceVersion, cascading delete through ownerReferences (background propagation), and
 * graceful deletion of scheduled Pods (deletionTimestamp + grace period; the node agent
 * finishes the delete). Validation, defaulting and allocation happen one layer up, in
 * dataplane/api, before ops reach commit().
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';
import { StoreKeys } from './keys.js';
import { CommitScript, RV_PLACEHOLDER, type CommitFailure, type CommitOp } from './commit-script.js';
import { alreadyExists, conflict, notFound, StoreError } from './errors.js';
import type { Service } from 'kubernetes-types/core/v1.js';
import { heldBy, ownerOf } from '../api/service-allocation.js';
import { KINDS, keyOf, objectKey, type KObject, type Kind } from '../model/object.js';

export interface StoreOptions {
  /** Event stream retention (entries); older history forces watchers to relist. */
  eventRetention?: number;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: number;
}

export interface DeleteOptions {
  /** Pods only: overrides terminationGracePeriodSeconds; 0 deletes at once. */
  gracePeriodSeconds?: number;
  /** Background (default) deletes dependents too; Orphan leaves them. */
  propagationPolicy?: 'Background' | 'Orphan';
}

const LIST_SCRIPT = `
local out = { redis.call('GET', KEYS[1]) or '0' }
for i = 2, #ARGV do
  out[#out + 1] = redis.call('HVALS', ARGV[1] .. ':obj:' .. ARGV[i])
end
return out
`;

export class ObjectStore {
  readonly keys: StoreKeys;
  private readonly script: CommitScript;

  constructor(
    readonly redis: RedisClient,
    readonly cluster: string,
    opts: StoreOptions = {},
  ) {
    this.keys = new StoreKeys(cluster);
    this.script = new CommitScript(redis, this.keys, opts.eventRetention ?? 100_000);
    redis.defineCommand('knetList', { numberOfKeys: 1, lua: LIST_SCRIPT });
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  // ---- reads -------------------------------------------------------------------------------

  async get<T extends KObject = KObject>(kind: Kind, namespace: string | undefined, name: string): Promise<T | undefined> {
    const json = await this.redis.hget(this.keys.objects(kind), objectKey(kind, namespace, name));
    return json ? (JSON.parse(json) as T) : undefined;
  }

  async mustGet<T extends KObject = KObject>(kind: Kind, namespace: string | undefined, name: string): Promise<T> {
    const obj = await this.get<T>(kind, namespace, name);
    if (!obj) throw notFound(kind, name);
    return obj;
  }

  /** All objects of the given kinds and the resourceVersion they are consistent at, atomically. */
  async listKinds(kinds: Kind[]): Promise<{ resourceVersion: number; byKind: Map<Kind, KObject[]> }> {
    const reply = (await (this.redis as unknown as KnetList).knetList(this.keys.rv, this.keys.prefix, ...kinds)) as [string, ...string[][]];
    const lists = reply.slice(1) as string[][];
    const byKind = new Map<Kind, KObject[]>();
    kinds.forEach((k, i) => byKind.set(k, (lists[i] ?? []).map((j) => JSON.parse(j) as KObject)));
    return { resourceVersion: Number(reply[0]), byKind };
  }

  async list<T extends KObject = KObject>(kind: Kind, namespace?: string): Promise<ListResult<T>> {
    const { resourceVersion, byKind } = await this.listKinds([kind]);
    let items = (byKind.get(kind) ?? []) as T[];
    if (namespace !== undefined && KINDS[kind].namespaced) items = items.filter((o) => o.metadata?.namespace === namespace);
    items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    return { items, resourceVersion };
  }

  async currentResourceVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.rv)) ?? 0);
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Fills the fields the apiserver owns on create: uid, creationTimestamp, generation. */
  prepareCreate<T extends KObject>(obj: T): T {
    const kind = obj.kind as Kind;
    const md = { ...obj.metadata };
    if (KINDS[kind].namespaced) md.namespace = md.namespace || 'default';
    else delete md.namespace;
    md.uid = md.uid || randomUUID();
    md.creationTimestamp = md.creationTimestamp || new Date().toISOString();
    md.generation = 1;
    return { ...obj, apiVersion: obj.apiVersion ?? KINDS[kind].apiVersion, metadata: md };
  }

  /**
   * Merges a new desired object onto the stored one as an update does: server-owned
   * metadata kept, status kept (status is written through updateStatus), generation bumped
   * when spec changed.
   */
  prepareUpdate<T extends KObject>(current: T, desired: T): T {
    const md = {
      ...desired.metadata,
      uid: current.metadata?.uid,
      creationTimestamp: current.metadata?.creationTimestamp,
      namespace: current.metadata?.namespace,
      deletionTimestamp: current.metadata?.deletionTimestamp,
      deletionGracePeriodSeconds: current.metadata?.deletionGracePeriodSeconds,
      generation: current.metadata?.generation ?? 1,
    };
    if (!md.deletionTimestamp) delete md.deletionTimestamp;
    if (md.deletionGracePeriodSeconds === undefined) delete md.deletionGracePeriodSeconds;
    if (!md.namespace) delete md.namespace;
    if (JSON.stringify(current.spec) !== JSON.stringify(desired.spec)) md.generation = (md.generation ?? 1) + 1;
    const next: T = { ...desired, metadata: md };
    if (current.status !== undefined) next.status = current.status;
    else delete next.status;
    return next;
  }

  /** Serializes with the resourceVersion placeholder the commit script stamps. */
  serialize(obj: KObject): string {
    const { resourceVersion: _rv, ...rest } = obj.metadata ?? {};
    const ordered = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { resourceVersion: RV_PLACEHOLDER, ...rest }, ...withoutHead(obj) };
    return JSON.stringify(ordered);
  }

  /** Applies ops atomically; throws a StoreError naming the object that failed. */
  async commit(ops: CommitOp[], objects?: KObject[]): Promise<number[]> {
    const result = await this.script.commit(ops);
    if (result.ok) return result.rvs;
    throw this.failureToError(result.failure, ops, objects);
  }

  async create<T extends KObject>(obj: T, extra: Partial<CommitOp> = {}): Promise<T> {
    const prepared = this.prepareCreate(obj);
    const [rv] = await this.commit([{ kind: prepared.kind as Kind, key: keyOf(prepared), mode: 'create', json: this.serialize(prepared), ...extra }], [prepared]);
    return stamp(prepared, rv!);
  }

  /** Replaces spec/metadata; status is kept. Pass the object's resourceVersion to guard against lost updates. */
  async update<T extends KObject>(desired: T, extra: Partial<CommitOp> = {}): Promise<T> {
    const current = await this.mustGet<T>(desired.kind as Kind, desired.metadata?.namespace, desired.metadata?.name ?? '');
    return this.updateFrom(current, desired, false, extra);
  }

  /** Writes only status (the controllers' and node agents' path), guarded by resourceVersion. */
  async updateStatus<T extends KObject>(obj: T, extra: Partial<CommitOp> = {}): Promise<T> {
    const current = await this.mustGet<T>(obj.kind as Kind, obj.metadata?.namespace, obj.metadata?.name ?? '');
    return this.updateFrom(current, obj, true, extra);
  }

  /** update / updateStatus against a current object already read (mutate has just read it). */
  private async updateFrom<T extends KObject>(current: T, desired: T, statusOnly: boolean, extra: Partial<CommitOp> = {}): Promise<T> {
    const kind = desired.kind as Kind;
    const next = statusOnly ? ({ ...current, status: desired.status } as T) : this.prepareUpdate(current, desired);
    const expectRv = desired.metadata?.resourceVersion ?? current.metadata?.resourceVersion;
    const [rv] = await this.commit([{ kind, key: keyOf(next), mode: 'update', expectRv, json: this.serialize(next), ...extra }], [next]);
    return stamp(next, rv!);
  }

  /**
   * Read-modify-write with retries on Conflict, the controllers' workhorse. `mutate` gets
   * the current object and returns the desired one (or undefined to skip the write).
   * With `status: true` only the returned status is written.
   */
  async mutate<T extends KObject>(
    kind: Kind,
    namespace: string | undefined,
    name: string,
    mutate: (current: T) => T | undefined,
    opts: { status?: boolean; attempts?: number } = {},
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(kind, namespace, name);
      if (!current) return undefined;
      const desired = mutate(structuredClone(current));
      if (!desired) return current;
      try {
        // Written against the object just read: a second read would only widen the race
        // window the resourceVersion guard already covers, and costs a round trip.
        return await this.updateFrom(current, desired, opts.status === true);
      } catch (err) {
        if (err instanceof StoreError && err.reason === 'Conflict' && attempt < (opts.attempts ?? 10)) continue;
        throw err;
      }
    }
  }

  /**
   * Deletes an object. Scheduled Pods terminate gracefully: they get deletionTimestamp and
   * stay until their node agent stops them and deletes them with grace 0. Dependents (by
   * ownerReferences) and a Namespace's contents are deleted after their owner.
   */
  async delete(kind: Kind, namespace: string | undefined, name: string, opts: DeleteOptions = {}, extra: Partial<CommitOp> = {}): Promise<KObject> {
    const current = await this.mustGet(kind, namespace, name);
    if (kind === 'Pod' && (current.spec as { nodeName?: string } | undefined)?.nodeName) {
      const grace = opts.gracePeriodSeconds ?? (current.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
      const phase = (current.status as { phase?: string } | undefined)?.phase;
      const terminal = phase === 'Succeeded' || phase === 'Failed';
      if (grace > 0 && !terminal) {
        const already = current.metadata?.deletionGracePeriodSeconds;
        if (already !== undefined && already <= grace) return current;
        const md = { ...current.metadata, deletionTimestamp: new Date(Date.now() + grace * 1000).toISOString(), deletionGracePeriodSeconds: grace };
        const next = { ...current, metadata: md };
        const [rv] = await this.commit([{ kind, key: keyOf(next), mode: 'update', expectRv: current.metadata?.resourceVersion, json: this.serialize(next) }], [next]);
        return stamp(next, rv!);
      }
    }
    // A deleted Service gives back its ClusterIP, NodePorts and LoadBalancer IP.
    const releases = kind === 'Service' ? { releases: heldBy(current as Service), owner: ownerOf(current as Service) } : {};
    await this.commit([{ kind, key: keyOf(current), mode: 'delete', ...releases, ...extra }], [current]);
    if (opts.propagationPolicy === 'Orphan') await this.orphanDependents(current);
    else await this.deleteDependents(current);
    return current;
  }

  private async deleteDependents(owner: KObject): Promise<void> {
    const uid = owner.metadata?.uid;
    const kinds = Object.keys(KINDS) as Kind[];
    const { byKind } = await this.listKinds(kinds);
    for (const [kind, objects] of byKind) {
      for (const obj of objects) {
        const ownedBy = obj.metadata?.ownerReferences?.some((r) => r.uid === uid);
        const inNamespace = owner.kind === 'Namespace' && KINDS[kind].namespaced && obj.metadata?.namespace === owner.metadata?.name;
        if (!ownedBy && !inNamespace) continue;
        try {
          await this.delete(kind, obj.metadata?.namespace, obj.metadata?.name ?? '');
        } catch (err) {
          if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
        }
      }
    }
  }

  /** Orphan propagation: dependents stay, without their reference to the deleted owner. */
  private async orphanDependents(owner: KObject): Promise<void> {
    const uid = owner.metadata?.uid;
    const { byKind } = await this.listKinds(Object.keys(KINDS) as Kind[]);
    for (const [kind, objects] of byKind) {
      for (const obj of objects) {
        if (!obj.metadata?.ownerReferences?.some((r) => r.uid === uid)) continue;
        await this.mutate(kind, obj.metadata.namespace, obj.metadata.name ?? '', (o) => {
          const refs = (o.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
          const { ownerReferences: _old, ...md } = o.metadata ?? {};
          return { ...o, metadata: refs.length ? { ...md, ownerReferences: refs } : md };
        });
      }
    }
  }

  private failureToError(f: CommitFailure, ops: CommitOp[], objects?: KObject[]): StoreError {
    const op = ops[f.index]!;
    const obj = objects?.[f.index];
    const name = obj?.metadata?.name ?? op.key.split('/').pop() ?? op.key;
    switch (f.reason) {
      case 'AlreadyExists':
        return alreadyExists(op.kind, name);
      case 'NotFound':
        return notFound(op.kind, name);
      case 'Conflict':
        return conflict(op.kind, name);
      case 'Allocated':
        return new StoreError('Invalid', `${op.kind} "${name}": ${f.pool} ${f.value} is already allocated to ${f.holder}`, [
          `${f.pool} ${f.value}: provided ${f.pool === 'nodeport' ? 'port' : 'IP'} is already allocated`,
        ]);
    }
  }

  // ---- cluster settings and heartbeats (not objects: no events) ----------------------------

  async readConfig<T>(): Promise<T | undefined> {
    const json = await this.redis.get(this.keys.config);
    return json ? (JSON.parse(json) as T) : undefined;
  }

  async writeConfig(config: unknown): Promise<void> {
    await this.redis.set(this.keys.config, JSON.stringify(config));
  }
}

function withoutHead(obj: KObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
  return rest;
}

function stamp<T extends KObject>(obj: T, rv: number): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
}

interface KnetList {
  knetList(rvKey: string, prefix: string, ...kinds: string[]): Promise<unknown>;
}
