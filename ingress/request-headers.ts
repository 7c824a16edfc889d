/**
 * A request's raw header list ([name, value, name, value…]) as the lowercase-keyed object
 * Node's `IncomingMessage.headers` gives, with the same rules for repeated names
 * (lib/_http_incoming.js matchKnownFields): the first value wins for fields that must not
 * repeat (Host, Content-Type, Authorization…), `set-cookie` collects an array, `cookie` joins
 * with "; ", every other field joins with ", ". Routing reads headers through this object, so
 * both HTTP servers (http1-server.ts and node:http) route a request the same way.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Fields where a repeated line is dropped (Node keeps the first). */
const SINGLE = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

export function headersObject(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const seen = out[name];
    if (seen === undefined) {
      out[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') {
      (seen as string[]).push(value);
    } else if (!SINGLE.has(name)) {
      out[name] = `${seen as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return out as IncomingHttpHeaders;
}
