/**
 * The apiserver's storage + etcd analog: Kubernetes-shaped objects in Redis, every write one Lua
 * script (commit-script.ts) that checks preconditions (existence, resourceVersion, allocation
 * claims) and stamps the global resourceVersion, and an event stream to watch.
 *
 * It knows no kind: what a create, an update or a delete *means* (defaults, validation,
 * allocation and its release, graceful deletion, finalizers, propagation) is decided one layer
 * up, in dataplane/base/admission, which hands finished ops to commit(). Cascading deletion is
 * the garbage collector's (dataplane/controllers/garbage-collector.ts), as in Kubernetes. What
 * stays here are the fields every stored object gets from storage: uid, creationTimestamp,
 * generation (for the kinds that keep one, bumped when spec changes: model/registry-strategy.ts;
 * a Job's generated selector, which needs the uid), status kept apart from spec, and keys that expire
 * (an op's expireAt; expire() removes what is due, as etcd leases do for Events).
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';
import { StoreKeys } from './keys.js';
import { CommitScript, RV_PLACEHOLDER, type CommitFailure, type CommitOp, type CommitResult } from './commit-script.js';
import { alreadyExists, conflict, notFound, StoreError } from './errors.js';
import { ExpiryScript } from './expiry-script.js';
import { KINDS, keyOf, objectKey, type KObject, type Kind } from '../model/object.js';
import { metaTime } from '../model/meta-time.js';
import { generateJobSelector } from '../model/defaults/batch.js';
import { nextGeneration, tracksGeneration } from '../model/registry-strategy.js';

export interface StoreOptions {
  /** Event stream retention (entries); older history forces watchers to relist. */
  eventRetention?: number;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: number;
}

/** One object by kind, namespace and name. */
export interface ObjectRef {
  kind: Kind;
  namespace?: string;
  name: string;
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
  private readonly expiry: ExpiryScript;

  constructor(
    readonly redis: RedisClient,
    readonly cluster: string,
    opts: StoreOptions = {},
  ) {
    this.keys = new StoreKeys(cluster);
    this.script = new CommitScript(redis, this.keys, opts.eventRetention ?? 100_000);
    this.expiry = new ExpiryScript(redis, this.keys, opts.eventRetention ?? 100_000);
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

  /** The stored objects of many refs, in order (undefined where none): one HMGET per kind. */
  async getMany(refs: ObjectRef[]): Promise<Array<KObject | undefined>> {
    const byKind = new Map<Kind, number[]>();
    refs.forEach((t, i) => {
      const list = byKind.get(t.kind);
      if (list) list.push(i);
      else byKind.set(t.kind, [i]);
    });
    const out: Array<KObject | undefined> = new Array(refs.length);
    await Promise.all(
      [...byKind].map(async ([kind, indexes]) => {
        const jsons = await this.redis.hmget(this.keys.objects(kind), ...indexes.map((i) => objectKey(kind, refs[i]!.namespace, refs[i]!.name)));
        indexes.forEach((ti, k) => (out[ti] = jsons[k] ? (JSON.parse(jsons[k]!) as KObject) : undefined));
      }),
    );
    return out;
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

  /**
   * Fills the fields the apiserver owns on create: uid, creationTimestamp, generation (for the
   * kinds that keep one); and a Job's generated selector, which needs the uid (the registry's
   * PrepareForCreate).
   */
  prepareCreate<T extends KObject>(obj: T): T {
    const kind = obj.kind as Kind;
    const md = { ...obj.metadata };
    if (KINDS[kind].namespaced) md.namespace = md.namespace || 'default';
    else delete md.namespace;
    md.uid = md.uid || randomUUID();
    md.creationTimestamp = md.creationTimestamp || metaTime();
    if (tracksGeneration(kind)) md.generation = 1;
    else delete md.generation;
    const out = { ...obj, apiVersion: obj.apiVersion ?? KINDS[kind].apiVersion, metadata: md };
    if (kind === 'Job') {
      out.spec = structuredClone(obj.spec);
      generateJobSelector(out as unknown as Record<string, unknown>);
    }
    return out;
  }

  /**
   * Merges a new desired object onto the stored one as an update does: server-owned
   * metadata kept, status kept (status is written through updateStatus), generation bumped
   * when spec changed (for the kinds that keep one: model/registry-strategy.ts).
   */
  prepareUpdate<T extends KObject>(current: T, desired: T): T {
    const md = {
      ...desired.metadata,
      uid: current.metadata?.uid,
      creationTimestamp: current.metadata?.creationTimestamp,
      namespace: current.metadata?.namespace,
      deletionTimestamp: current.metadata?.deletionTimestamp,
      deletionGracePeriodSeconds: current.metadata?.deletionGracePeriodSeconds,
      generation: nextGeneration(current, desired),
    };
    if (!md.deletionTimestamp) delete md.deletionTimestamp;
    if (md.deletionGracePeriodSeconds === undefined) delete md.deletionGracePeriodSeconds;
    if (!md.namespace) delete md.namespace;
    if (md.generation === undefined) delete md.generation;
    const next = { ...desired, metadata: md } as T;
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
    opts: { status?: boolean; attempts?: number; extra?: Partial<CommitOp> } = {},
  ): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(kind, namespace, name);
      if (!current) return undefined;
      const desired = mutate(structuredClone(current));
      if (!desired) return current;
      try {
        // Written against the object just read: a second read would only widen the race
        // window the resourceVersion guard already covers, and costs a round trip.
        return await this.updateFrom(current, desired, opts.status === true, opts.extra);
      } catch (err) {
        if (err instanceof StoreError && err.reason === 'Conflict' && attempt < (opts.attempts ?? 10)) continue;
        throw err;
      }
    }
  }

  /** Applies ops as one commit and returns the result without throwing (batch writers retry per op). */
  async tryCommit(ops: CommitOp[]): Promise<CommitResult> {
    return this.script.commit(ops);
  }

  /**
   * Removes the objects whose expireAt has passed (at most `limit` per call), each with a
   * DELETED event, as an etcd lease's expiry does; returns how many it removed.
   */
  async expire(now = Date.now(), limit = 500): Promise<number> {
    return this.expiry.sweep(now, limit);
  }

  /** A failed commit as the apiserver words it, naming the object. */
  failureToError(f: CommitFailure, ops: CommitOp[], objects?: KObject[]): StoreError {
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

export function stamp<T extends KObject>(obj: T, rv: number): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
}

interface KnetList {
  knetList(rvKey: string, prefix: string, ...kinds: string[]): Promise<unknown>;
}
