/**
 * `/healthz`, `/livez`, `/readyz` and their single checks (`/readyz/etcd`), answered as the
 * apiserver's healthz package answers them (k8s.io/apiserver pkg/server/healthz): `ok` when every
 * check passes; with `?verbose` one `[+]name ok` line per check and `<kind> check passed`; a
 * failing check is `[-]name failed: reason withheld` and a 500 with `<kind> check failed`;
 * `?exclude=name` skips a check (listed as `[+]name excluded: ok`). knet's checks: `ping`, `log`,
 * `etcd` (the store's Redis connection) and, for readiness, `etcd-readiness`, `informer-sync`
 * (the watch cache has listed everything) and `shutdown`. Pure but for the probes it is given.
 */
import type { Reply } from './api-request.js';

export interface HealthProbes {
  /** The store (Redis) is connected. */
  storeReady(): boolean;
  /** The watch cache has synced. */
  cacheSynced(): boolean;
  /** The server is shutting down. */
  shuttingDown(): boolean;
}

type Check = [name: string, ok: (p: HealthProbes) => boolean];

const LIVE: Check[] = [
  ['ping', () => true],
  ['log', () => true],
  ['etcd', (p) => p.storeReady()],
];
const READY: Check[] = [...LIVE, ['etcd-readiness', (p) => p.storeReady()], ['informer-sync', (p) => p.cacheSynced()], ['shutdown', (p) => !p.shuttingDown()]];

const text = (code: number, body: string): Reply => ({ code, contentType: 'text/plain; charset=utf-8', body, headers: { 'X-Content-Type-Options': 'nosniff' } });

/** The answer to GET `/{healthz,livez,readyz}[/check]`; undefined for a check that does not exist (404). */
export function healthReply(pathname: string, query: URLSearchParams, probes: HealthProbes): Reply | undefined {
  const [endpoint, single] = pathname.split('/').filter(Boolean) as [string, string | undefined];
  const checks = endpoint === 'readyz' ? READY : LIVE;
  if (single !== undefined) {
    const check = checks.find(([name]) => name === single);
    if (!check) return undefined;
    return check[1](probes) ? text(200, 'ok') : text(500, `internal server error: ${single} check failed\n`);
  }
  const excluded = new Set(query.getAll('exclude').flatMap((e) => e.split(',')));
  const lines: string[] = [];
  let failed = false;
  for (const [name, ok] of checks) {
    if (excluded.has(name)) {
      lines.push(`[+]${name} excluded: ok`);
      continue;
    }
    const passed = ok(probes);
    failed ||= !passed;
    lines.push(passed ? `[+]${name} ok` : `[-]${name} failed: reason withheld`);
  }
  if (failed) return text(500, `${lines.join('\n')}\n${endpoint} check failed\n`);
  if (!query.has('verbose')) return text(200, 'ok');
  return text(200, `${lines.join('\n')}\n${endpoint} check passed\n`);
}
