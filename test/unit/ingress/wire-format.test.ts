/** Pure wire-format pieces: forwarded headers, access-log line, error pages, request URIs. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatAccessLog, timeLocal } from '../../../ingress/access-log.js';
import { errorPage } from '../../../ingress/error-pages.js';
import { downstreamHeaders, requestIdFrom, upstreamHeaders } from '../../../ingress/forwarded-headers.js';
import { normalizePath, parseRequestUri } from '../../../ingress/request-uri.js';
import { route } from '../../../ingress/route.js';
import { ingress, path, rule, tableFor } from './fixtures.js';

const pairs = (raw: string[]) => {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
};

describe('upstream headers', () => {
  const ctx = { clientIp: '127.0.0.1', scheme: 'http' as const, port: 80, requestId: 'abc', host: 'shop.example.com:8080', clientHost: 'shop.example.com:8080' };

  it('sets the forwarding headers, replacing client values, and keeps the rest in order', () => {
    const raw = ['Host', 'shop.example.com:8080', 'Accept', '*/*', 'X-Forwarded-For', '6.6.6.6', 'X-Real-IP', '1.1.1.1', 'Cookie', 'a=1', 'Cookie', 'b=2', 'X-Forwarded-Host', 'evil'];
    const out = pairs(upstreamHeaders(raw, ctx));
    expect(out).toEqual([
      ['Host', 'shop.example.com:8080'],
      ['Accept', '*/*'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['X-Request-ID', 'abc'],
      ['X-Real-IP', '127.0.0.1'],
      ['X-Forwarded-For', '127.0.0.1'],
      ['X-Forwarded-Host', 'shop.example.com:8080'],
      ['X-Forwarded-Port', '80'],
      ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Scheme', 'http'],
      ['X-Scheme', 'http'],
      ['X-Original-Forwarded-For', '6.6.6.6'],
      ['X-Original-Forwarded-Host', 'evil'],
    ]);
  });

  it('drops hop-by-hop headers, headers named in Connection, Proxy, Expect and names with "_"', () => {
    const raw = ['Connection', 'keep-alive, X-Secret', 'Keep-Alive', '5', 'TE', 'trailers', 'Transfer-Encoding', 'chunked', 'X-Secret', 's', 'Proxy', 'http://evil', 'Expect', '100-continue', 'X_Under', 'u', 'Upgrade', 'h2c', 'X-Ok', '1'];
    const names = pairs(upstreamHeaders(raw, ctx)).map(([k]) => k);
    for (const gone of ['Connection', 'Keep-Alive', 'TE', 'Transfer-Encoding', 'X-Secret', 'Proxy', 'Expect', 'X_Under', 'Upgrade']) expect(names).not.toContain(gone);
    expect(names).toContain('X-Ok');
  });

  it('WebSocket: Upgrade kept with Connection: upgrade', () => {
    const out = pairs(upstreamHeaders(['Upgrade', 'websocket', 'Connection', 'Upgrade'], { ...ctx, upgrade: 'websocket' }));
    expect(out).toContainEqual(['Upgrade', 'websocket']);
    expect(out).toContainEqual(['Connection', 'upgrade']);
  });

  it('response: hop-by-hop, Server and Date from the pod are not relayed; Set-Cookie duplicates are', () => {
    const out = pairs(downstreamHeaders(['Server', 'gunicorn', 'Date', 'x', 'Connection', 'close', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Type', 'text/plain']));
    expect(out).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Content-Type', 'text/plain'],
    ]);
  });

  it('X-Request-ID: the client\'s if sane, else a fresh one', () => {
    expect(requestIdFrom('abc-123', () => 'fresh')).toBe('abc-123');
    expect(requestIdFrom(undefined, () => 'fresh')).toBe('fresh');
    expect(requestIdFrom('has space', () => 'fresh')).toBe('fresh');
  });
});

describe('access log (ingress-nginx upstreaminfo)', () => {
  it('formats one line with every field, upstream lists per try', () => {
    const line = formatAccessLog({
      remoteAddr: '127.0.0.1',
      time: Date.UTC(2025, 9, 10, 13, 55, 36),
      method: 'GET',
      uri: '/cart?id=1',
      httpVersion: '1.1',
      status: 200,
      bodyBytesSent: 612,
      userAgent: 'curl/8.0',
      requestLength: 87,
      requestTime: 0.0123,
      upstreamName: 'default-cart-80',
      alternativeUpstreamName: '',
      tries: [
        { addr: '127.244.1.5:8080', responseTime: 0.001 },
        { addr: '127.244.1.6:8080', responseLength: 612, responseTime: 0.0104, status: 200 },
      ],
      requestId: 'f00d',
    });
    expect(line).toBe(
      `127.0.0.1 - - [${timeLocal(Date.UTC(2025, 9, 10, 13, 55, 36))}] "GET /cart?id=1 HTTP/1.1" 200 612 "-" "curl/8.0" 87 0.012 [default-cart-80] [] 127.244.1.5:8080, 127.244.1.6:8080 -, 612 0.001, 0.010 -, 200 f00d`,
    );
  });

  it('escapes quotes and control bytes in logged strings', () => {
    const line = formatAccessLog({ remoteAddr: 'a', time: 0, method: 'GET', uri: '/"x"', httpVersion: '1.1', status: 404, bodyBytesSent: 0, userAgent: 'a\nb', requestLength: 1, requestTime: 0, upstreamName: 'upstream-default-backend', alternativeUpstreamName: '', tries: [], requestId: 'r' });
    expect(line).toContain('"GET /\\x22x\\x22 HTTP/1.1"');
    expect(line).toContain('"a\\x0Ab"');
    expect(line).toMatch(/\[upstream-default-backend\] \[\] - - - - r$/);
  });
});

describe('error pages', () => {
  it('the default backend 404 is nginx\'s stock page: CRLF, 146 bytes', () => {
    const page = errorPage(404);
    expect(page.length).toBe(146);
    expect(page.toString()).toBe('<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n');
  });
});

describe('request URIs', () => {
  it.each([
    ['/', '/'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['//a///b//', '/a/b/'],
    ['/a/.', '/a/'],
    ['/%61%62', '/ab'],
  ])('normalizes %s → %s', (raw, want) => {
    const p = parseRequestUri(raw);
    expect(p.ok && p.uri.path).toBe(want);
  });

  it('climbing above the root is a 400', () => {
    expect(normalizePath('/..')).toBeUndefined();
    expect(parseRequestUri('/a/../../b').ok).toBe(false);
  });

  it('never throws on arbitrary request-targets, and route() answers every one (property)', () => {
    const t = tableFor({ ingresses: [ingress('p', [rule('p.example', path('/', 'Prefix', 'web'))])] });
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), fc.option(fc.string({ maxLength: 32 })), (target, host) => {
        const d = route(t, { host: host ?? undefined, path: target, clientIp: '127.0.0.1', scheme: 'http' });
        expect(['proxy', 'respond', 'redirect']).toContain(d.action);
      }),
    );
  });
});
