/**
 * Expansion of the nginx variables people use in `upstream-hash-by` (e.g. `$request_uri`,
 * `$remote_addr`, `$http_x_user`, `$cookie_session`, `$arg_id`, or a concatenation).
 * Unknown variables expand to '' as an unset nginx variable does.
 */

export interface VariableSource {
  /** Raw request URI with query. */
  requestUri: string;
  /** Normalized path. */
  uri: string;
  query: string;
  host: string;
  remoteAddr: string;
  scheme: string;
  method: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  cookies: ReadonlyMap<string, string>;
}

export function expandVariables(expr: string, src: VariableSource): string {
  return expr.replace(/\$\{?([A-Za-z0-9_]+)\}?/g, (_m, name: string) => variable(name.toLowerCase(), src));
}

function variable(name: string, src: VariableSource): string {
  switch (name) {
    case 'request_uri':
      return src.requestUri;
    case 'uri':
    case 'document_uri':
      return src.uri;
    case 'args':
    case 'query_string':
      return src.query;
    case 'host':
      return src.host;
    case 'remote_addr':
    case 'binary_remote_addr':
      return src.remoteAddr;
    case 'scheme':
      return src.scheme;
    case 'request_method':
      return src.method;
  }
  if (name.startsWith('http_')) return headerValue(src.headers, name.slice(5).replace(/_/g, '-'));
  if (name.startsWith('cookie_')) return src.cookies.get(name.slice(7)) ?? '';
  if (name.startsWith('arg_')) return argument(src.query, name.slice(4));
  return '';
}

/** First value of a header (names are lowercase in Node's header object). */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return '';
  return Array.isArray(v) ? v[0] ?? '' : v;
}

function argument(query: string, name: string): string {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k.toLowerCase() === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return '';
}

/** `a=1; b=2` → Map; the first occurrence of a name wins, as nginx's `$cookie_` does. */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const all = Array.isArray(header) ? header.join('; ') : header ?? '';
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (k && !out.has(k)) out.set(k, part.slice(eq + 1).trim());
  }
  return out;
}
