/**
 * Picking an endpoint of an upstream, as ingress-nginx's Lua balancers do (balancer.lua
 * get_implementation): cookie affinity (sticky_balanced = consistent hash of a random key
 * kept in the cookie; sticky_persistent = the cookie names the endpoint), then
 * upstream-hash-by (consistent hash of an nginx expression), then load-balance
 * (round_robin; ewma is treated as round robin here).
 *
 * The only state is round-robin counters and the random source, held in a BalancerState the
 * caller owns, so the routing core stays a function of its inputs.
 */
import { createHash } from 'node:crypto';
import { byIdentity } from './by-identity.js';
import type { Endpoint } from './endpoints.js';
import type { Upstream } from './route-table.js';

export class BalancerState {
  private readonly counters = new Map<string, number>();

  constructor(
    /** Uniform in [0, 1). Tests pass a seeded generator. */
    readonly random: () => number = Math.random,
    readonly now: () => number = Date.now,
    readonly pid: number = process.pid,
  ) {}

  /** The next round-robin index for an upstream (counters survive table recomputes). */
  nextIndex(upstreamName: string, size: number): number {
    const n = this.counters.get(upstreamName) ?? 0;
    this.counters.set(upstreamName, (n + 1) % 1_000_000_007);
    return n % size;
  }

  /** math.random(n) in Lua: an integer in 1..n. */
  randomInt(n: number): number {
    return 1 + Math.floor(this.random() * n);
  }
}

export interface Pick {
  /** The chosen endpoint first, then the others in the order retries should try them. */
  endpoints: Endpoint[];
  /** When set, the response must carry a new affinity cookie with this key. */
  newCookieKey?: string;
}

/** Parsed affinity cookie `<key>|<backendKey>`. */
export interface AffinityCookie {
  key: string;
  backendKey?: string;
}

export function parseAffinityCookie(value: string | undefined): AffinityCookie | undefined {
  if (!value) return undefined;
  const [key, backendKey] = value.split('|');
  if (!key) return undefined;
  return backendKey === undefined ? { key } : { key, backendKey };
}

/** Does the request's affinity cookie pin it to this upstream (balancer is_affinitized)? */
export function isAffinitized(ups: Upstream, cookies: ReadonlyMap<string, string>): boolean {
  if (!ups.affinity) return false;
  return parseAffinityCookie(cookies.get(ups.affinity.name))?.backendKey === ups.backendKey;
}

/**
 * Chooses the endpoint for a request. `hashKey` is the expanded upstream-hash-by value
 * (only used when the upstream hashes). Never called with an empty endpoint list.
 */
export function pickEndpoint(ups: Upstream, cookies: ReadonlyMap<string, string>, hashKey: string | undefined, state: BalancerState): Pick {
  const eps = ups.endpoints;
  if (ups.affinity) {
    const cookie = parseAffinityCookie(cookies.get(ups.affinity.name));
    if (ups.affinity.mode === 'persistent') {
      const map = persistentMap(ups);
      const pinned = cookie && map.get(cookie.key);
      if (pinned) return { endpoints: rotateTo(eps, pinned) };
      const chosen = eps[state.randomInt(eps.length) - 1]!;
      return { endpoints: rotateTo(eps, chosen), newCookieKey: persistentKey(ups.name, chosen) };
    }
    const ring = ringOf(eps);
    if (cookie) return { endpoints: rotateTo(eps, ring.find(cookie.key)) };
    const key = `${state.now() / 1000 + 1}.${state.pid}.${state.randomInt(999999)}`;
    return { endpoints: rotateTo(eps, ring.find(key)), newCookieKey: key };
  }
  if (ups.hashBy !== undefined) {
    return { endpoints: rotateTo(eps, ringOf(eps).find(hashKey ?? '')) };
  }
  const i = state.nextIndex(ups.name, eps.length);
  return { endpoints: [...eps.slice(i), ...eps.slice(0, i)] };
}

/** The endpoints starting at `first`, then the rest in their order (retry candidates). */
function rotateTo(eps: Endpoint[], first: Endpoint): Endpoint[] {
  const i = eps.indexOf(first);
  return i <= 0 ? eps : [...eps.slice(i), ...eps.slice(0, i)];
}

export function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** sticky_persistent's cookie key for an endpoint: md5(upstream name + "ip:port"). */
export function persistentKey(upstreamName: string, ep: Endpoint): string {
  return md5(upstreamName + ep.id);
}

const persistentMaps = new WeakMap<Endpoint[], Map<string, Endpoint>>();
function persistentMap(ups: Upstream): Map<string, Endpoint> {
  let m = persistentMaps.get(ups.endpoints);
  if (!m) {
    m = new Map(ups.endpoints.map((e) => [persistentKey(ups.name, e), e] as const));
    persistentMaps.set(ups.endpoints, m);
  }
  return m;
}

/**
 * A consistent-hash ring (160 points per endpoint, like resty.chash): a key maps to the
 * first point at or after its hash. Removing an endpoint only moves the keys it owned.
 */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Endpoint[];

  constructor(endpoints: readonly Endpoint[], pointsPerEndpoint = 160) {
    const all: Array<[number, Endpoint]> = [];
    for (const ep of endpoints) for (let i = 0; i < pointsPerEndpoint; i++) all.push([hash32(`${ep.id}#${i}`), ep]);
    all.sort((a, b) => a[0] - b[0] || (a[1].id < b[1].id ? -1 : 1));
    this.points = Uint32Array.from(all.map((p) => p[0]));
    this.owners = all.map((p) => p[1]);
  }

  find(key: string): Endpoint {
    const h = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === this.points.length ? 0 : lo]!;
  }
}

const ringOf = byIdentity((eps: Endpoint[]) => new HashRing(eps));

/** FNV-1a with a murmur3 finalizer: fast, and well spread for short similar keys. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
