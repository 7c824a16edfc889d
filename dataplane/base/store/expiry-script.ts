/**
 * Keys that expire, as etcd leases expire Events (kube-apiserver's --event-ttl): an op's
 * expireAt files "Kind|key" in a sorted set by time; `sweep` removes what is due in one Lua
 * script, each object with its own resourceVersion and DELETED event, so watches and informer
 * caches see an expiry as they see any delete. Redis' own key expiry cannot do this: objects
 * of a kind share one hash, and an expiring key would leave no event behind.
 */
import type { RedisClient } from './redis-connection.js';
import type { StoreKeys } from './keys.js';

const SCRIPT = `
local prefix = ARGV[1]
local maxlen = ARGV[2]
local now = ARGV[3]
local limit = tonumber(ARGV[4])
local expiryKey = prefix .. ':expiry'
local due = redis.call('ZRANGEBYSCORE', expiryKey, '-inf', now, 'LIMIT', 0, limit)
local removed = 0
for _, member in ipairs(due) do
  redis.call('ZREM', expiryKey, member)
  local sep = string.find(member, '|', 1, true)
  local kind = string.sub(member, 1, sep - 1)
  local key = string.sub(member, sep + 1)
  local objKey = prefix .. ':obj:' .. kind
  local cur = redis.call('HGET', objKey, key)
  if cur then
    local rv = redis.call('INCR', prefix .. ':rv')
    local object = string.gsub(cur, '"resourceVersion":"%d*"', '"resourceVersion":"' .. rv .. '"', 1)
    redis.call('HDEL', objKey, key)
    redis.call('XADD', prefix .. ':events', 'MAXLEN', '~', maxlen, rv .. '-0', 'type', 'DELETED', 'kind', kind, 'key', key, 'object', object)
    removed = removed + 1
  end
end
return removed
`;

export class ExpiryScript {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly maxlen: number,
  ) {
    redis.defineCommand('knetExpire', { numberOfKeys: 1, lua: SCRIPT });
  }

  /** Removes up to `limit` objects whose expiry is at or before `now` (epoch ms); returns how many. */
  async sweep(now: number, limit: number): Promise<number> {
    // The rv key is declared so Redis Cluster routes the script to our slot.
    return Number(await (this.redis as unknown as KnetExpire).knetExpire(this.keys.rv, this.keys.prefix, String(this.maxlen), String(Math.floor(now)), String(limit)));
  }
}

interface KnetExpire {
  knetExpire(rvKey: string, prefix: string, maxlen: string, now: string, limit: string): Promise<unknown>;
}
