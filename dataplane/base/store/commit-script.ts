/**
 * The one write path into the store: a Lua script that applies a batch of object writes
 * atomically, as the apiserver + etcd do for one object, and as `knet apply` needs for a
 * whole manifest (all or nothing).
 *
 * For each op, in order, it first checks every precondition (exists / not exists, expected
 * resourceVersion, allocation claims free), and only if all hold does it, per op: bump the
 * global resourceVersion, write or delete the object with that version stamped in, move the
 * allocation claims, keep the key's expiry (an op's expireAt; removed with the object), and
 * append {type, kind, key, object} to the event stream with ID `<rv>-0`.
 * Because each write appends exactly one entry with consecutive IDs, a watcher can detect a
 * gap (trimmed history) by a jump in IDs.
 */
import type { RedisClient } from './redis-connection.js';
import type { StoreKeys } from './keys.js';
import type { Kind } from '../model/object.js';

/** Placeholder the script replaces with the assigned resourceVersion. */
export const RV_PLACEHOLDER = '@@RV@@';

export type CommitMode = 'create' | 'update' | 'put' | 'delete';

export interface CommitOp {
  kind: Kind;
  key: string;
  mode: CommitMode;
  /** Fail with Conflict unless the stored object has this resourceVersion. */
  expectRv?: string;
  /** The object as JSON with `"resourceVersion":"@@RV@@"` in its metadata; omitted for delete. */
  json?: string;
  /** Allocations this object takes: [pool, value]; fails if another owner holds one. */
  claims?: Array<[string, string]>;
  /** Allocations this object gives back. */
  releases?: Array<[string, string]>;
  /** Owner recorded for claims, e.g. "Service/default/web". */
  owner?: string;
  /** When the object expires (epoch ms; expiry-script.ts removes it then): Events' TTL. */
  expireAt?: number;
}

export type CommitFailure =
  | { reason: 'AlreadyExists'; index: number }
  | { reason: 'NotFound'; index: number }
  | { reason: 'Conflict'; index: number; currentRv: string }
  | { reason: 'Allocated'; index: number; pool: string; value: string; holder: string };

export type CommitResult = { ok: true; rvs: number[] } | { ok: false; failure: CommitFailure };

const SCRIPT = `
local prefix = ARGV[1]
local maxlen = ARGV[2]
local ops = cjson.decode(ARGV[3])
local rvKey = prefix .. ':rv'
local streamKey = prefix .. ':events'
local expiryKey = prefix .. ':expiry'

local function currentRv(json)
  return string.match(json, '"resourceVersion":"(%d+)"') or ''
end

-- Phase 1: every precondition, before anything is written.
local current = {}
local pending = {}
for i, op in ipairs(ops) do
  local objKey = prefix .. ':obj:' .. op.kind
  local cur = redis.call('HGET', objKey, op.key)
  local pk = op.kind .. '|' .. op.key
  if pending[pk] ~= nil then cur = pending[pk] end
  if cur == false then cur = nil end
  if op.mode == 'create' and cur then return {'AlreadyExists', tostring(i - 1)} end
  if (op.mode == 'update' or op.mode == 'delete') and not cur then return {'NotFound', tostring(i - 1)} end
  if op.expectRv and op.expectRv ~= '' then
    local have = cur and currentRv(cur) or ''
    if have ~= op.expectRv then return {'Conflict', tostring(i - 1), have} end
  end
  current[i] = cur
  if op.mode == 'delete' then pending[pk] = false else pending[pk] = op.json end
  if op.claims then
    for _, c in ipairs(op.claims) do
      local holder = redis.call('HGET', prefix .. ':alloc:' .. c[1], c[2])
      local ck = c[1] .. '|' .. c[2]
      if pending[ck] ~= nil then holder = pending[ck] end
      if holder and holder ~= false and holder ~= op.owner then
        return {'Allocated', tostring(i - 1), c[1], c[2], holder}
      end
      pending[ck] = op.owner
    end
  end
end

-- Phase 2: the writes.
local rvs = {}
for i, op in ipairs(ops) do
  local objKey = prefix .. ':obj:' .. op.kind
  local rv = redis.call('INCR', rvKey)
  local stamp = '"resourceVersion":"' .. rv .. '"'
  local object
  local evType
  if op.mode == 'delete' then
    object = string.gsub(current[i], '"resourceVersion":"%d*"', stamp, 1)
    redis.call('HDEL', objKey, op.key)
    redis.call('ZREM', expiryKey, op.kind .. '|' .. op.key)
    evType = 'DELETED'
  else
    object = string.gsub(op.json, '"resourceVersion":"@@RV@@"', stamp, 1)
    redis.call('HSET', objKey, op.key, object)
    if current[i] then evType = 'MODIFIED' else evType = 'ADDED' end
    if op.expireAt then redis.call('ZADD', expiryKey, op.expireAt, op.kind .. '|' .. op.key) end
  end
  if op.releases then
    for _, r in ipairs(op.releases) do
      local allocKey = prefix .. ':alloc:' .. r[1]
      if redis.call('HGET', allocKey, r[2]) == op.owner then redis.call('HDEL', allocKey, r[2]) end
    end
  end
  if op.claims then
    for _, c in ipairs(op.claims) do redis.call('HSET', prefix .. ':alloc:' .. c[1], c[2], op.owner) end
  end
  redis.call('XADD', streamKey, 'MAXLEN', '~', maxlen, rv .. '-0', 'type', evType, 'kind', op.kind, 'key', op.key, 'object', object)
  rvs[#rvs + 1] = tostring(rv)
end
return {'OK', unpack(rvs)}
`;

export class CommitScript {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly maxlen: number,
  ) {
    redis.defineCommand('knetCommit', { numberOfKeys: 1, lua: SCRIPT });
  }

  async commit(ops: CommitOp[]): Promise<CommitResult> {
    if (ops.length === 0) return { ok: true, rvs: [] };
    // The rv key is declared so Redis Cluster routes the script to our slot.
    const payload = JSON.stringify(ops.map((op) => ({ ...op, claims: op.claims?.length ? op.claims : undefined })));
    const reply = (await (this.redis as unknown as KnetCommit).knetCommit(this.keys.rv, this.keys.prefix, String(this.maxlen), payload)) as string[];
    const [status, ...rest] = reply;
    switch (status) {
      case 'OK':
        return { ok: true, rvs: rest.map(Number) };
      case 'AlreadyExists':
      case 'NotFound':
        return { ok: false, failure: { reason: status, index: Number(rest[0]) } };
      case 'Conflict':
        return { ok: false, failure: { reason: 'Conflict', index: Number(rest[0]), currentRv: rest[1] ?? '' } };
      case 'Allocated':
        return { ok: false, failure: { reason: 'Allocated', index: Number(rest[0]), pool: rest[1]!, value: rest[2]!, holder: rest[3]! } };
      default:
        throw new Error(`unexpected reply from the commit script: ${JSON.stringify(reply)}`);
    }
  }
}

interface KnetCommit {
  knetCommit(rvKey: string, prefix: string, maxlen: string, payload: string): Promise<unknown>;
}
