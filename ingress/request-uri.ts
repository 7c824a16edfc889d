/**
 * The request-target as nginx sees it: the raw URI (forwarded to the backend unchanged
 * unless rewritten) and the normalized path `$uri` that locations are matched against —
 * percent-decoded, `.`/`..` resolved, runs of `/` merged (merge_slashes on).
 */

export interface RequestUri {
  /** The request-target exactly as the client sent it (origin-form), e.g. `/a/../b?x=1`. */
  raw: string;
  /** The normalized, decoded path (`$uri`), e.g. `/b`. */
  path: string;
  /** The query string without `?` (`$args`), or '' if none. */
  query: string;
  /** True when the raw target had a `?` (even an empty query). */
  hasQuery: boolean;
  /** Host from an absolute-form target (`GET http://h/p`), which nginx prefers over Host. */
  absoluteHost?: string;
}

export type ParsedUri = { ok: true; uri: RequestUri } | { ok: false; reason: string };

/** Parses and normalizes a request-target; a target nginx would refuse gives a 400 reason. */
export function parseRequestUri(target: string): ParsedUri {
  let raw = target;
  let absoluteHost: string | undefined;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)(.*)$/.exec(target);
  if (abs) {
    absoluteHost = abs[1];
    raw = abs[2] === '' ? '/' : abs[2]!;
    if (!raw.startsWith('/')) raw = '/' + raw;
  }
  if (!raw.startsWith('/')) return { ok: false, reason: `request-target ${JSON.stringify(target.slice(0, 64))} is not an absolute path` };
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  // A fragment is never sent by well-behaved clients; nginx treats '#' as the end of the path.
  const hash = rawPath.indexOf('#');
  const pathPart = hash < 0 ? rawPath : rawPath.slice(0, hash);
  let path: string | undefined;
  if (CLEAN_PATH.test(pathPart)) {
    path = pathPart; // the common case: nothing to decode, merge or resolve
  } else {
    const decoded = percentDecode(pathPart);
    if (decoded === undefined) return { ok: false, reason: 'invalid percent-encoding in the request path' };
    if (decoded.includes('\0')) return { ok: false, reason: 'NUL byte in the request path' };
    path = normalizePath(decoded);
    if (path === undefined) return { ok: false, reason: 'the request path climbs above the root' };
  }
  const uri: RequestUri = { raw, path, query, hasQuery: q >= 0 };
  if (absoluteHost !== undefined) uri.absoluteHost = absoluteHost;
  return { ok: true, uri };
}

/** A path with no `%`, no `//` and no `/.` is already in normal form. */
const CLEAN_PATH = /^(?!.*(?:%|\/\/|\/\.))/s;

/** Decodes %XX escapes byte-wise as UTF-8; undefined on a malformed escape. */
export function percentDecode(s: string): string | undefined {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Resolves dot segments and merges slashes; undefined when `..` climbs above `/`. */
export function normalizePath(path: string): string | undefined {
  const out: string[] = [];
  const segments = path.split('/');
  // segments[0] is '' (the path starts with '/').
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '' || seg === '.') {
      if (last) out.push('');
      continue;
    }
    if (seg === '..') {
      if (out.length === 0 || (out.length === 1 && out[0] === '')) return undefined;
      if (out[out.length - 1] === '') out.pop();
      out.pop();
      if (last) out.push('');
      continue;
    }
    if (out[out.length - 1] === '') out.pop();
    out.push(seg);
  }
  return '/' + out.join('/');
}

/**
 * Re-encodes a rewritten (decoded) path for the upstream request line, escaping what
 * nginx escapes when it sends a changed `$uri`: controls, space, `"`, `#`, `%`, `?`, and
 * non-ASCII. Everything else is sent as is.
 */
export function encodePath(path: string): string {
  let out = '';
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x22 || c === 0x23 || c === 0x25 || c === 0x3f || c === 0x7f || c > 0x7e) {
      for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    } else {
      out += ch;
    }
  }
  return out;
}
