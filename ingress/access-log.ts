/**
 * One access-log line per request in ingress-nginx's `upstreaminfo` format:
 *
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent" $request_length $request_time
 *   [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr
 *   $upstream_response_length $upstream_response_time $upstream_status $req_id
 *
 * Upstream fields list one value per try, comma-separated, as nginx does after retries.
 */

export interface UpstreamTry {
  addr: string;
  /** Response body bytes, or undefined when no response came. */
  responseLength?: number;
  /** Seconds. */
  responseTime: number;
  /** Status, or undefined (nginx logs `502`-less tries as `-`). */
  status?: number;
}

export interface AccessRecord {
  remoteAddr: string;
  remoteUser?: string;
  /** ms since the epoch, when the request started. */
  time: number;
  method: string;
  uri: string;
  httpVersion: string;
  status: number;
  bodyBytesSent: number;
  referer?: string;
  userAgent?: string;
  requestLength: number;
  /** Seconds. */
  requestTime: number;
  upstreamName: string;
  alternativeUpstreamName: string;
  tries: UpstreamTry[];
  requestId: string;
}

export function formatAccessLog(r: AccessRecord): string {
  return (
    `${r.remoteAddr} - ${dash(r.remoteUser)} [${timeLocal(r.time)}] "${escape(`${r.method} ${r.uri} HTTP/${r.httpVersion}`)}" ` +
    `${r.status} ${r.bodyBytesSent} "${escape(dash(r.referer))}" "${escape(dash(r.userAgent))}" ${r.requestLength} ${r.requestTime.toFixed(3)} ` +
    `[${r.upstreamName}] [${r.alternativeUpstreamName}] ${list(r.tries, tryAddr)} ${list(r.tries, tryLength)} ` +
    `${list(r.tries, tryTime)} ${list(r.tries, tryStatus)} ${r.requestId}`
  );
}

// Per-request hot path: named functions and a one-try fast path instead of map/join closures.
const dash = (v: string | undefined) => (v === undefined || v === '' ? '-' : v);
const tryAddr = (t: UpstreamTry) => t.addr;
const tryLength = (t: UpstreamTry) => (t.responseLength === undefined ? '-' : String(t.responseLength));
const tryTime = (t: UpstreamTry) => t.responseTime.toFixed(3);
const tryStatus = (t: UpstreamTry) => (t.status === undefined ? '-' : String(t.status));

function list(tries: UpstreamTry[], f: (t: UpstreamTry) => string): string {
  if (tries.length === 0) return '-';
  if (tries.length === 1) return f(tries[0]!);
  return tries.map(f).join(', ');
}

const NEEDS_ESCAPE = /[\x00-\x1f"\\\x7f]/;

/** nginx escapes `"`, `\` and control bytes in logged strings as \xHH. */
function escape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\x00-\x1f"\\\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let cachedSecond = -1;
let cachedText = '';

/** `10/Oct/2000:13:55:36 +0000` in local time, cached per second (hot path). */
export function timeLocal(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedText;
  const d = new Date(second * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const p2 = (n: number) => String(n).padStart(2, '0');
  cachedText =
    `${p2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ` +
    `${sign}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
  cachedSecond = second;
  return cachedText;
}
