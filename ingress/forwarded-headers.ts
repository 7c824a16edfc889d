/**
 * The request headers sent to a pod, as ingress-nginx's location block sets them
 * (nginx.tmpl, with use-forwarded-headers, compute-full-forwarded-for and enable-real-ip
 * all false): client headers pass through, except hop-by-hop ones, `Proxy` (httpoxy) and
 * names containing `_` (underscores_in_headers off); the forwarding headers are *set*,
 * replacing whatever the client sent — never appended.
 */

export interface ForwardContext {
  clientIp: string;
  scheme: 'http' | 'https';
  /** 80 or 443: the port of the listener kind, as `$pass_port` in the pod's view. */
  port: number;
  requestId: string;
  /** The Host to send (`$best_http_host`, or upstream-vhost). */
  host: string;
  /** The client's Host header (for X-Forwarded-Host). */
  clientHost: string;
  /** WebSocket/Upgrade request: keep Upgrade and send `Connection: upgrade`. */
  upgrade?: string;
  xForwardedPrefix?: string;
  /** custom-http-errors: the error-page request's extra headers. */
  extra?: Array<[string, string]>;
}

/** Names (lowercase) never copied from the client. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy',
  'host',
  'expect', // 100-continue is answered by the controller itself
  'x-request-id',
  'x-real-ip',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-scheme',
  'x-original-forwarded-for',
  'x-original-forwarded-host',
  'x-forwarded-prefix',
]);

/**
 * Builds the upstream header list from Node's `rawHeaders` ([name, value, name, value…]),
 * keeping the client's order and duplicates for the headers that pass through.
 */
export function upstreamHeaders(rawHeaders: readonly string[], ctx: ForwardContext): string[] {
  const out: string[] = [];
  let connectionTokens: Set<string> | undefined;
  let originalFor = '';
  let originalHost = '';
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (lower === 'connection') {
      for (const t of rawHeaders[i + 1]!.split(',')) (connectionTokens ??= new Set()).add(t.trim().toLowerCase());
    } else if (lower === 'x-forwarded-for') {
      originalFor = originalFor ? `${originalFor}, ${rawHeaders[i + 1]}` : rawHeaders[i + 1]!;
    } else if (lower === 'x-forwarded-host' && !originalHost) {
      originalHost = rawHeaders[i + 1]!;
    }
  }
  out.push('Host', ctx.host);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || lower.includes('_') || connectionTokens?.has(lower)) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  if (ctx.upgrade) out.push('Upgrade', ctx.upgrade, 'Connection', 'upgrade');
  out.push(
    'X-Request-ID', ctx.requestId,
    'X-Real-IP', ctx.clientIp,
    'X-Forwarded-For', ctx.clientIp,
    'X-Forwarded-Host', ctx.clientHost,
    'X-Forwarded-Port', String(ctx.port),
    'X-Forwarded-Proto', ctx.scheme,
    'X-Forwarded-Scheme', ctx.scheme,
    'X-Scheme', ctx.scheme,
  );
  if (originalFor) out.push('X-Original-Forwarded-For', originalFor);
  if (originalHost) out.push('X-Original-Forwarded-Host', originalHost);
  if (ctx.xForwardedPrefix) out.push('X-Forwarded-Prefix', ctx.xForwardedPrefix);
  for (const [k, v] of ctx.extra ?? []) out.push(k, v);
  return out;
}

/** Response headers from a pod that must not be relayed as they are. */
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer', 'server', 'date']);

/**
 * The pod's response headers to relay (raw pairs), minus hop-by-hop ones and `Server`/`Date`
 * (nginx's proxy_hide_header defaults: the proxy answers with its own).
 */
export function downstreamHeaders(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  let connectionTokens: Set<string> | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const t of rawHeaders[i + 1]!.split(',')) (connectionTokens ??= new Set()).add(t.trim().toLowerCase());
    }
  }
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP_RESPONSE.has(lower) || connectionTokens?.has(lower)) continue;
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}

/** `$req_id`: the client's X-Request-ID if it sent one, else 32 random hex characters. */
export function requestIdFrom(value: string | string[] | undefined, random: () => string): string {
  const v = Array.isArray(value) ? value[0] : value;
  return v && /^[\x21-\x7e]{1,200}$/.test(v) ? v : random();
}
