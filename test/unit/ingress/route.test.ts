import { describe, expect, it } from 'vitest';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { BalancerState } from '../../../ingress/balancer.js';
import { route, type RouteDecision, type RouteRequest } from '../../../ingress/route.js';
import type { RouteTable } from '../../../ingress/route-table.js';
import { ingress, nginx, path, rule, service, slice, tableFor } from './fixtures.js';
import { testCertificate } from './test-certificate.js';
import { seededRandom as seeded } from '../../support/seeded-random.js';

const req = (host: string, p: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({ host, path: p, clientIp: '127.0.0.1', scheme: 'http', ...extra });
const go = (t: RouteTable, r: RouteRequest, s?: BalancerState): RouteDecision => route(t, r, s);
const svc = (d: RouteDecision) => (d.action === 'proxy' ? d.upstream.service : undefined);

describe('canary', () => {
  const world = (canaryAnns: Record<string, string>) =>
    tableFor({
      ingresses: [
        ingress('main', [rule('app.example', path('/', 'Prefix', 'stable'))], { created: 1 }),
        ingress('canary', [rule('app.example', path('/', 'Prefix', 'next'))], { created: 2, annotations: nginx({ canary: 'true', ...canaryAnns }) }),
      ],
    });

  it.each([
    ['header "always" → canary', { 'canary-by-header': 'X-Canary' }, { 'x-canary': 'always' }, '', 'next'],
    ['header "never" → primary even with weight 100', { 'canary-by-header': 'X-Canary', 'canary-weight': '100' }, { 'x-canary': 'never' }, '', 'stable'],
    ['header other value falls through to weight 100', { 'canary-by-header': 'X-Canary', 'canary-weight': '100' }, { 'x-canary': 'maybe' }, '', 'next'],
    ['header-value exact match → canary', { 'canary-by-header': 'X-Region', 'canary-by-header-value': 'eu' }, { 'x-region': 'eu' }, '', 'next'],
    ['header-value mismatch falls through (weight 0) → primary', { 'canary-by-header': 'X-Region', 'canary-by-header-value': 'eu' }, { 'x-region': 'us' }, '', 'stable'],
    ['header-value: "always" is just another value', { 'canary-by-header': 'X-Region', 'canary-by-header-value': 'eu' }, { 'x-region': 'always' }, '', 'stable'],
    ['header-pattern match → canary', { 'canary-by-header': 'X-User', 'canary-by-header-pattern': '^(alice|bob)$' }, { 'x-user': 'bob' }, '', 'next'],
    ['cookie "always" → canary', { 'canary-by-cookie': 'use_canary' }, {}, 'use_canary=always', 'next'],
    ['cookie "never" → primary even with weight 100', { 'canary-by-cookie': 'use_canary', 'canary-weight': '100' }, {}, 'use_canary=never', 'stable'],
    ['header beats cookie: header never, cookie always → primary', { 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'c' }, { 'x-canary': 'never' }, 'c=always', 'stable'],
    ['header beats cookie: header always, cookie never → canary', { 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'c' }, { 'x-canary': 'always' }, 'c=never', 'next'],
    ['cookie beats weight', { 'canary-by-cookie': 'c', 'canary-weight': '0' }, {}, 'c=always', 'next'],
    ['weight 100 → canary', { 'canary-weight': '100' }, {}, '', 'next'],
    ['weight 0 → primary', { 'canary-weight': '0' }, {}, '', 'stable'],
    ['weight-total 1000 with weight 1000 → canary', { 'canary-weight': '1000', 'canary-weight-total': '1000' }, {}, '', 'next'],
    ['weight-total at or below 100 is ignored (total stays 100)', { 'canary-weight': '100', 'canary-weight-total': '50' }, {}, '', 'next'],
  ])('%s', (_n, anns, headers, cookie, want) => {
    const t = world(anns);
    const h: Record<string, string> = { ...headers };
    if (cookie) h.cookie = cookie;
    for (let i = 0; i < 20; i++) expect(svc(go(t, req('app.example', '/', { headers: h })))).toBe(want);
  });

  it('weight 20 sends ~20% (seeded, 2000 requests)', () => {
    const t = world({ 'canary-weight': '20' });
    const s = new BalancerState(seeded(7));
    let canary = 0;
    for (let i = 0; i < 2000; i++) if (svc(go(t, req('app.example', '/x'), s)) === 'next') canary++;
    expect(canary / 2000).toBeGreaterThan(0.17);
    expect(canary / 2000).toBeLessThan(0.23);
  });

  it('canary decisions are logged with the alternative upstream name', () => {
    const d = go(world({ 'canary-weight': '100' }), req('app.example', '/'));
    expect(d.info).toMatchObject({ canary: true, upstreamName: 'default-stable-80', alternativeUpstreamName: 'default-next-80' });
  });

  it('a canary with no matching main rule is dropped with a warning', () => {
    const t = tableFor({
      ingresses: [
        ingress('main', [rule('app.example', path('/', 'Prefix', 'stable'))], { created: 1 }),
        ingress('canary', [rule('app.example', path('/other', 'Prefix', 'next'))], { created: 2, annotations: nginx({ canary: 'true', 'canary-weight': '100' }) }),
      ],
    });
    expect(svc(go(t, req('app.example', '/other')))).toBe('stable');
    expect(t.ingresses.find((r) => r.name === 'canary')!.warnings.join()).toMatch(/matches no main Ingress rule/);
  });

  it('the primary without endpoints answers 503 even if the canary has endpoints', () => {
    const t = tableFor({
      ingresses: [
        ingress('main', [rule('app.example', path('/', 'Prefix', 'stable'))], { created: 1 }),
        ingress('canary', [rule('app.example', path('/', 'Prefix', 'next'))], { created: 2, annotations: nginx({ canary: 'true', 'canary-weight': '100' }) }),
      ],
      services: [service('stable')],
      slices: [slice('stable', [])],
    });
    const d = go(t, req('app.example', '/'));
    expect(d.action === 'respond' && d.status).toBe(503);
  });
});

describe('cookie affinity', () => {
  const eps = [1, 2, 3, 4].map((i) => ({ ip: `127.52.1.${i}`, pod: `web-${i}` }));
  const build = (endpoints = eps, anns: Record<string, string> = {}) =>
    tableFor({
      ingresses: [ingress('sticky', [rule('s.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-max-age': '3600', ...anns }) })],
      services: [service('web')],
      slices: [slice('web', endpoints)],
    });

  it('a new client gets Set-Cookie; the cookie then pins one endpoint; no new cookie is sent', () => {
    const t = build();
    const first = go(t, req('s.example', '/'));
    expect(first.action).toBe('proxy');
    if (first.action !== 'proxy') return;
    const setCookie = first.responseHeaders.find(([k]) => k === 'Set-Cookie')![1];
    expect(setCookie).toMatch(/^route=[^;|]+\|[0-9a-f]{32}; Max-Age=3600; Path=\/; HttpOnly$/);
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 20; i++) {
      const d = go(t, req('s.example', '/', { headers: { cookie } }));
      expect(d.action === 'proxy' && d.endpoints[0]!.id).toBe(first.endpoints[0]!.id);
      expect(d.action === 'proxy' && d.responseHeaders.some(([k]) => k === 'Set-Cookie')).toBe(false);
    }
  });

  it('when the pinned endpoint goes away the same cookie moves to another, and stays there', () => {
    const t = build();
    const first = go(t, req('s.example', '/'));
    if (first.action !== 'proxy') throw new Error('expected proxy');
    const cookie = first.responseHeaders.find(([k]) => k === 'Set-Cookie')![1].split(';')[0]!;
    const pinned = first.endpoints[0]!.address;
    const t2 = build(eps.filter((e) => e.ip !== pinned));
    const moved = go(t2, req('s.example', '/', { headers: { cookie } }));
    if (moved.action !== 'proxy') throw new Error('expected proxy');
    expect(moved.endpoints[0]!.address).not.toBe(pinned);
    for (let i = 0; i < 5; i++) {
      const again = go(t2, req('s.example', '/', { headers: { cookie } }));
      expect(again.action === 'proxy' && again.endpoints[0]!.id).toBe(moved.endpoints[0]!.id);
    }
  });

  it('persistent mode: the cookie names the endpoint; a vanished endpoint gets a new cookie', () => {
    const t = build(eps, { 'affinity-mode': 'persistent' });
    const first = go(t, req('s.example', '/'));
    if (first.action !== 'proxy') throw new Error('expected proxy');
    const cookie = first.responseHeaders.find(([k]) => k === 'Set-Cookie')![1].split(';')[0]!;
    const pinned = first.endpoints[0]!.address;
    const t2 = build(eps.filter((e) => e.ip !== pinned), { 'affinity-mode': 'persistent' });
    const moved = go(t2, req('s.example', '/', { headers: { cookie } }));
    expect(moved.action === 'proxy' && moved.responseHeaders.some(([k]) => k === 'Set-Cookie')).toBe(true);
  });

  it('Secure on HTTPS, and session-cookie-path overrides the Ingress path', () => {
    const t = build(eps, { 'session-cookie-path': '/app', 'ssl-redirect': 'false' });
    const d = go(t, req('s.example', '/', { scheme: 'https' }));
    expect(d.action === 'proxy' && d.responseHeaders.find(([k]) => k === 'Set-Cookie')![1]).toMatch(/; Path=\/app; Secure; HttpOnly$/);
  });
});

describe('balancing', () => {
  const eps = [1, 2, 3].map((i) => ({ ip: `127.52.1.${i}` }));
  it('round robin visits every endpoint in turn', () => {
    const t = tableFor({ ingresses: [ingress('rr', [rule('r.example', path('/', 'Prefix', 'web'))])], services: [service('web')], slices: [slice('web', eps)] });
    const s = new BalancerState();
    const seen = Array.from({ length: 6 }, () => {
      const d = go(t, req('r.example', '/'), s);
      return d.action === 'proxy' ? d.endpoints[0]!.address : '';
    });
    expect(seen).toEqual(['127.52.1.1', '127.52.1.2', '127.52.1.3', '127.52.1.1', '127.52.1.2', '127.52.1.3']);
  });

  it('upstream-hash-by $request_uri: the same URI always lands on the same endpoint', () => {
    const t = tableFor({
      ingresses: [ingress('h', [rule('h.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'upstream-hash-by': '$request_uri' }) })],
      services: [service('web')],
      slices: [slice('web', eps)],
    });
    const where = (u: string) => {
      const d = go(t, req('h.example', u));
      return d.action === 'proxy' ? d.endpoints[0]!.id : '';
    };
    const spread = new Set<string>();
    for (let i = 0; i < 30; i++) {
      expect(where(`/item/${i}`)).toBe(where(`/item/${i}`));
      spread.add(where(`/item/${i}`));
    }
    expect(spread.size).toBe(3);
  });
});

describe('rewrite, redirects, app-root', () => {
  const rewriteTable = tableFor({
    ingresses: [
      ingress('rw', [rule('rw.example', path('/something(/|$)(.*)', 'ImplementationSpecific', 'web'))], {
        annotations: nginx({ 'rewrite-target': '/$2', 'use-regex': 'true' }),
      }),
    ],
  });
  it.each([
    ['/something', '/'],
    ['/something/', '/'],
    ['/something/new', '/new'],
    ['/something/new?x=1&y=2', '/new?x=1&y=2'],
    ['/SOMETHING/case', '/case'],
  ])('rewrite-target /$2: %s → %s', (from, to) => {
    const d = go(rewriteTable, req('rw.example', from));
    expect(d.action === 'proxy' && d.uri).toBe(to);
  });

  it('without rewrite the raw request URI is forwarded untouched', () => {
    const t = tableFor({ ingresses: [ingress('raw', [rule('raw.example', path('/', 'Prefix', 'web'))])] });
    const d = go(t, req('raw.example', '/a/../b//c?q=%20'));
    expect(d.action === 'proxy' && d.uri).toBe('/a/../b//c?q=%20');
  });

  it('regex mode makes every path on the host a case-insensitive prefix (ingress-nginx)', () => {
    const t = tableFor({
      ingresses: [
        ingress('a', [rule('re.example', path('/ba', 'Prefix', 'ba'))], { created: 1 }),
        ingress('b', [rule('re.example', path('/api/v[0-9]+', 'ImplementationSpecific', 'api'))], { created: 2, annotations: nginx({ 'use-regex': 'true' }) }),
      ],
    });
    expect(svc(go(t, req('re.example', '/banana')))).toBe('ba');
    expect(svc(go(t, req('re.example', '/API/V2/x')))).toBe('api');
  });

  it('app-root: GET / → 302 to $scheme://$http_host<root>', () => {
    const t = tableFor({ ingresses: [ingress('ar', [rule('ar.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'app-root': '/app1' }) })] });
    const d = go(t, req('ar.example:8080', '/'));
    expect(d).toMatchObject({ action: 'redirect', status: 302, location: 'http://ar.example:8080/app1' });
    expect(svc(go(t, req('ar.example', '/other')))).toBe('web');
  });

  it.each([
    [{ 'permanent-redirect': 'https://www.example.org/new' }, 301, 'https://www.example.org/new'],
    [{ 'permanent-redirect': 'https://e.org', 'permanent-redirect-code': '308' }, 308, 'https://e.org'],
    [{ 'temporal-redirect': 'https://t.example/x' }, 302, 'https://t.example/x'],
  ])('%j', (anns, status, location) => {
    const t = tableFor({ ingresses: [ingress('rd', [rule('rd.example', path('/', 'Prefix', 'web'))], { annotations: nginx(anns) })] });
    expect(go(t, req('rd.example', '/some/path?q=1'))).toMatchObject({ action: 'redirect', status, location });
  });
});

describe('TLS redirect', () => {
  const secret = (name: string, host: string): Secret => {
    const { cert, key } = testCertificate(host);
    return { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: 'default' }, data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') } };
  };
  const build = (anns: Record<string, string> = {}, p = '/') =>
    tableFor({
      ingresses: [ingress('tls', [rule('secure.example', path(p, 'Prefix', 'web')), rule('plain.example', path('/', 'Prefix', 'web'))], { annotations: nginx(anns), tls: [{ hosts: ['secure.example'], secretName: 'secure-tls' }] })],
      secrets: [secret('secure-tls', 'secure.example')],
    });

  it('HTTP to a TLS host → 308 https://host<uri> with one trailing slash removed', () => {
    const t = build();
    expect(go(t, req('secure.example:80', '/'))).toMatchObject({ action: 'redirect', status: 308, location: 'https://secure.example' });
    expect(go(t, req('secure.example', '/d/?x=1'))).toMatchObject({ status: 308, location: 'https://secure.example/d/?x=1' });
    expect(go(t, req('secure.example', '/d/'))).toMatchObject({ status: 308, location: 'https://secure.example/d' });
    expect(svc(go(t, req('secure.example', '/', { scheme: 'https' })))).toBe('web');
  });

  it('every other host of an Ingress with a tls section gets the default certificate entry, so it redirects too', () => {
    const t = build();
    expect(t.certificates.get('secure.example')?.kind).toBe('secret');
    expect(t.certificates.get('plain.example')?.kind).toBe('default');
    expect(go(t, req('plain.example', '/x'))).toMatchObject({ status: 308 });
  });

  it('ssl-redirect "false" turns it off; preserve-trailing-slash keeps the slash', () => {
    expect(svc(go(build({ 'ssl-redirect': 'false' }), req('secure.example', '/')))).toBe('web');
    expect(go(build({ 'preserve-trailing-slash': 'true' }), req('secure.example', '/d/'))).toMatchObject({ location: 'https://secure.example/d/' });
  });

  it('force-ssl-redirect redirects a host without a certificate', () => {
    const t = tableFor({ ingresses: [ingress('f', [rule('f.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'force-ssl-redirect': 'true' }) })] });
    expect(go(t, req('f.example', '/a'))).toMatchObject({ status: 308, location: 'https://f.example/a' });
  });

  it('ACME challenge paths never redirect', () => {
    const t = tableFor({
      ingresses: [ingress('acme', [rule('secure.example', path('/.well-known/acme-challenge', 'Prefix', 'acme'), path('/', 'Prefix', 'web'))], { tls: [{ hosts: ['secure.example'] }] })],
    });
    expect(svc(go(t, req('secure.example', '/.well-known/acme-challenge/tok')))).toBe('acme');
    expect(go(t, req('secure.example', '/'))).toMatchObject({ status: 308 });
  });

  it('a Secret whose certificate does not cover the host falls back to the default certificate', () => {
    const t = tableFor({
      ingresses: [ingress('w', [rule('other.example', path('/', 'Prefix', 'web'))], { tls: [{ hosts: ['other.example'], secretName: 'secure-tls' }] })],
      secrets: [secret('secure-tls', 'secure.example')],
    });
    expect(t.certificates.get('other.example')).toMatchObject({ kind: 'default', reason: expect.stringMatching(/does not cover other.example/) });
  });
});

describe('413, 403, 503, CORS, custom errors', () => {
  const one = (anns: Record<string, string>) => tableFor({ ingresses: [ingress('x', [rule('x.example', path('/', 'Prefix', 'web'))], { annotations: nginx(anns) })] });

  it('Content-Length above proxy-body-size → 413; equal is allowed', () => {
    const t = one({ 'proxy-body-size': '1k' });
    expect(go(t, req('x.example', '/', { method: 'POST', headers: { 'content-length': '1025' } }))).toMatchObject({ action: 'respond', status: 413 });
    expect(go(t, req('x.example', '/', { method: 'POST', headers: { 'content-length': '1024' } })).action).toBe('proxy');
    expect(go(one({}), req('x.example', '/', { headers: { 'content-length': String(1048577) } }))).toMatchObject({ status: 413 });
  });

  it('whitelist-source-range → 403 for others; denylist → 403 for those listed', () => {
    const allow = one({ 'whitelist-source-range': '127.52.0.0/16' });
    expect(go(allow, req('x.example', '/', { clientIp: '127.52.3.4' })).action).toBe('proxy');
    expect(go(allow, req('x.example', '/', { clientIp: '127.0.0.1' }))).toMatchObject({ status: 403 });
    const deny = one({ 'denylist-source-range': '127.0.0.1' });
    expect(go(deny, req('x.example', '/', { clientIp: '127.0.0.1' }))).toMatchObject({ status: 403 });
    expect(go(deny, req('x.example', '/', { clientIp: '127.0.0.2' })).action).toBe('proxy');
  });

  it('a denied client on HTTP to a TLS host gets 308 first (phase order)', () => {
    const t = tableFor({
      ingresses: [ingress('x', [rule('x.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'whitelist-source-range': '10.0.0.0/8' }), tls: [{ hosts: ['x.example'] }] })],
    });
    expect(go(t, req('x.example', '/', { clientIp: '127.0.0.1' }))).toMatchObject({ status: 308 });
    expect(go(t, req('x.example', '/', { clientIp: '127.0.0.1', scheme: 'https' }))).toMatchObject({ status: 403 });
  });

  it('an invalid whitelist makes the location answer 503', () => {
    expect(go(one({ 'whitelist-source-range': 'bogus' }), req('x.example', '/'))).toMatchObject({ action: 'respond', status: 503 });
  });

  it('CORS with *: preflight 204 without calling the backend; every response gets Allow-Origin *', () => {
    const t = one({ 'enable-cors': 'true' });
    const pre = go(t, req('x.example', '/', { method: 'OPTIONS' }));
    expect(pre).toMatchObject({ action: 'respond', status: 204 });
    expect(pre.action === 'respond' && Object.fromEntries(pre.responseHeaders)).toMatchObject({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Max-Age': '1728000',
      'Content-Type': 'text/plain charset=UTF-8',
      'Content-Length': '0',
    });
    const get = go(t, req('x.example', '/'));
    expect(get.action === 'proxy' && Object.fromEntries(get.responseHeaders)['Access-Control-Allow-Origin']).toBe('*');
  });

  it('CORS with a list echoes a matching Origin; a non-matching OPTIONS is proxied without CORS headers', () => {
    const t = one({ 'enable-cors': 'true', 'cors-allow-origin': 'https://app.example, https://*.corp.example' });
    const ok = go(t, req('x.example', '/', { method: 'OPTIONS', headers: { origin: 'https://Dev.corp.example' } }));
    expect(ok.action === 'respond' && Object.fromEntries(ok.responseHeaders)['Access-Control-Allow-Origin']).toBe('https://Dev.corp.example');
    const no = go(t, req('x.example', '/', { method: 'OPTIONS', headers: { origin: 'https://a.b.corp.example' } }));
    expect(no.action).toBe('proxy');
    expect(no.action === 'proxy' && no.responseHeaders.length).toBe(0);
  });

  it('default-backend annotation takes over when the primary has no endpoints', () => {
    const t = tableFor({
      ingresses: [ingress('db', [rule('db.example', path('/', 'Prefix', 'down'))], { annotations: nginx({ 'default-backend': 'errors' }) })],
      services: [service('down'), service('errors')],
      slices: [slice('down', []), slice('errors', [{ ip: '127.52.1.9' }])],
    });
    const d = go(t, req('db.example', '/'));
    expect(d.action === 'proxy' && d.upstream.name).toBe('custom-default-backend-default-errors');
  });

  it('custom-http-errors: a local 503 is rendered by the default-backend Service with X-Code', () => {
    const t = tableFor({
      ingresses: [ingress('ce', [rule('ce.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'custom-http-errors': '403,503', 'default-backend': 'errors', 'whitelist-source-range': '10.0.0.0/8' }) })],
      services: [service('web'), service('errors')],
      slices: [slice('web', [{ ip: '127.52.1.8' }]), slice('errors', [{ ip: '127.52.1.9' }])],
    });
    const d = go(t, req('ce.example', '/x'));
    expect(d).toMatchObject({ action: 'proxy', errorCode: 403, uri: '/' });
    const ok = tableFor({
      ingresses: [ingress('ce', [rule('ce.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'custom-http-errors': '404,500', 'default-backend': 'errors' }) })],
      services: [service('web'), service('errors')],
      slices: [slice('web', [{ ip: '127.52.1.8' }]), slice('errors', [{ ip: '127.52.1.9' }])],
    });
    const p = go(ok, req('ce.example', '/x'));
    expect(p.action === 'proxy' && p.interceptErrors?.codes).toEqual([404, 500]);
    expect(p.action === 'proxy' && p.interceptErrors?.backend?.name).toBe('custom-default-backend-default-errors');
  });

  it('server-alias routes the alias like the host', () => {
    const t = tableFor({ ingresses: [ingress('al', [rule('main.example', path('/', 'Prefix', 'web'))], { annotations: nginx({ 'server-alias': 'www.main.example' }) })] });
    expect(svc(go(t, req('www.main.example', '/')))).toBe('web');
  });

  it('garbage request-targets are 400, never a throw', () => {
    const t = one({});
    for (const p of ['*', 'nopath', '/%zz', '/../etc/passwd', '/a/%00']) {
      expect(go(t, req('x.example', p))).toMatchObject({ action: 'respond', status: 400 });
    }
  });
});
