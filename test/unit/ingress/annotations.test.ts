import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultAnnotations, parseAnnotations, parseSize } from '../../../ingress/annotations.js';
import { nginx } from './fixtures.js';

describe('annotation defaults (ingress-nginx ConfigMap defaults)', () => {
  it('has the documented defaults', () => {
    const d = defaultAnnotations();
    expect(d).toMatchObject({
      sslRedirect: true,
      forceSslRedirect: false,
      useRegex: false,
      proxyConnectTimeout: 5,
      proxySendTimeout: 60,
      proxyReadTimeout: 60,
      proxyBodySize: 1048576,
      proxyNextUpstreamTries: 3,
      loadBalance: 'round_robin',
      backendProtocol: 'HTTP',
      canary: { enabled: false, weight: 0, weightTotal: 100 },
    });
    expect(d.cors).toMatchObject({ enabled: false, allowOrigin: ['*'], allowCredentials: true, maxAge: 1728000 });
  });
});

describe('parseAnnotations', () => {
  const cases: Array<[string, Record<string, string>, (r: ReturnType<typeof parseAnnotations>) => void]> = [
    ['rewrite-target with captures', { 'rewrite-target': '/$2', 'use-regex': 'true' }, (r) => expect(r.config).toMatchObject({ rewriteTarget: '/$2', useRegex: true })],
    ['booleans as Go ParseBool reads them', { 'ssl-redirect': 'False', 'force-ssl-redirect': '1' }, (r) => expect(r.config).toMatchObject({ sslRedirect: false, forceSslRedirect: true })],
    ['cookie affinity defaults', { affinity: 'cookie' }, (r) => expect(r.config.affinity).toMatchObject({ mode: 'balanced', canaryBehavior: 'sticky', name: 'INGRESSCOOKIE', changeOnFailure: false })],
    ['cookie affinity settings', { affinity: 'cookie', 'session-cookie-name': 'route', 'session-cookie-max-age': '172800', 'session-cookie-path': '/app', 'affinity-mode': 'persistent' }, (r) => expect(r.config.affinity).toMatchObject({ name: 'route', maxAge: 172800, path: '/app', mode: 'persistent' })],
    ['canary', { canary: 'true', 'canary-weight': '20', 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'canary' }, (r) => expect(r.config.canary).toMatchObject({ enabled: true, weight: 20, header: 'X-Canary', cookie: 'canary', weightTotal: 100 })],
    ['proxy-body-size', { 'proxy-body-size': '8m' }, (r) => expect(r.config.proxyBodySize).toBe(8 * 1048576)],
    ['proxy-body-size 0 is unlimited', { 'proxy-body-size': '0' }, (r) => expect(r.config.proxyBodySize).toBe(0)],
    ['timeouts', { 'proxy-connect-timeout': '2', 'proxy-read-timeout': '120', 'proxy-send-timeout': '30' }, (r) => expect(r.config).toMatchObject({ proxyConnectTimeout: 2, proxyReadTimeout: 120, proxySendTimeout: 30 })],
    ['backend-protocol is case-insensitive', { 'backend-protocol': 'https' }, (r) => expect(r.config.backendProtocol).toBe('HTTPS')],
    ['load-balance ewma', { 'load-balance': 'ewma' }, (r) => expect(r.config.loadBalance).toBe('ewma')],
    ['upstream-hash-by', { 'upstream-hash-by': '$request_uri' }, (r) => expect(r.config.upstreamHashBy).toBe('$request_uri')],
    ['cors list', { 'enable-cors': 'true', 'cors-allow-origin': 'https://a.com, https://*.b.com' }, (r) => expect(r.config.cors).toMatchObject({ enabled: true, allowOrigin: ['https://a.com', 'https://*.b.com'] })],
    ['whitelist → allowlist CIDRs, a bare IP is a /32', { 'whitelist-source-range': '10.0.0.0/8, 127.0.0.1' }, (r) => expect(r.config.allowlist).toEqual(['10.0.0.0/8', '127.0.0.1/32'])],
    ['an invalid whitelist denies the location (503) instead of refusing', { 'whitelist-source-range': 'not-a-cidr' }, (r) => {
      expect(r.refused).toBeUndefined();
      expect(r.config.denied).toMatch(/valid IP address or network/);
    }],
    ['permanent-redirect defaults to 301', { 'permanent-redirect': 'https://example.com/x' }, (r) => expect(r.config.redirect).toEqual({ url: 'https://example.com/x', code: 301 })],
    ['permanent-redirect-code 308', { 'permanent-redirect': 'https://e.com', 'permanent-redirect-code': '308' }, (r) => expect(r.config.redirect?.code).toBe(308)],
    ['permanent-redirect-code out of range → 301', { 'permanent-redirect': 'https://e.com', 'permanent-redirect-code': '399' }, (r) => expect(r.config.redirect?.code).toBe(301)],
    ['temporal-redirect takes precedence, 302', { 'permanent-redirect': 'https://p.com', 'temporal-redirect': 'https://t.com' }, (r) => expect(r.config.redirect).toEqual({ url: 'https://t.com', code: 302 })],
    ['server-alias list', { 'server-alias': 'www.a.com, A2.com' }, (r) => expect(r.config.aliases).toEqual(['www.a.com', 'a2.com'])],
    ['custom-http-errors', { 'custom-http-errors': '404,503' }, (r) => expect(r.config.customHttpErrors).toEqual([404, 503])],
    ['default-backend', { 'default-backend': 'errors' }, (r) => expect(r.config.defaultBackend).toBe('errors')],
  ];
  it.each(cases)('%s', (_n, anns, check) => {
    const r = parseAnnotations(nginx(anns));
    expect(r.refused).toBeUndefined();
    check(r);
  });

  it.each([
    ['configuration-snippet', 'more_set_headers "A: b";'],
    ['server-snippet', 'location /x {}'],
    ['auth-snippet', 'x'],
    ['stream-snippet', 'x'],
    ['modsecurity-snippet', 'x'],
  ])('%s refuses the Ingress', (name, value) => {
    expect(parseAnnotations(nginx({ [name]: value })).refused).toBe(
      `nginx.ingress.kubernetes.io/${name} annotation cannot be used. Snippet directives are disabled by the Ingress administrator`,
    );
  });

  it.each([
    [{ 'ssl-redirect': 'yes' }, /ssl-redirect must be a boolean/],
    [{ 'canary-weight': '2.5' }, /canary-weight must be an integer/],
    [{ 'proxy-body-size': '1 TB' }, /proxy-body-size has an invalid value/],
    [{ affinity: 'ip' }, /affinity must be one of cookie/],
    [{ 'rewrite-target': '/x?y=1' }, /rewrite-target has an invalid value/],
    [{ 'permanent-redirect': 'not a url' }, /not a valid URL/],
    [{ 'load-balance': 'random' }, /load-balance must be one of/],
    [{ 'default-backend': 'Bad_Name' }, /default-backend has an invalid value/],
  ])('invalid value %j refuses the Ingress', (anns, reason) => {
    expect(parseAnnotations(nginx(anns)).refused).toMatch(reason);
  });

  it('unknown and unimplemented annotations are warnings; other prefixes are ignored', () => {
    const r = parseAnnotations({ ...nginx({ 'made-up': 'x', 'limit-rps': '5' }), 'kubernetes.io/ingress.class': 'nginx', 'example.com/x': 'y' });
    expect(r.refused).toBeUndefined();
    expect(r.warnings).toEqual([
      'annotation nginx.ingress.kubernetes.io/limit-rps is not implemented by knet and is ignored',
      'unknown annotation nginx.ingress.kubernetes.io/made-up is ignored',
    ]);
  });

  it('parseSize', () => {
    expect(parseSize('1m')).toBe(1048576);
    expect(parseSize('1M')).toBe(1048576);
    expect(parseSize('10k')).toBe(10240);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('1g')).toBe(1024 ** 3);
  });

  it('never throws on arbitrary annotations (property)', () => {
    const key = fc.constantFrom('rewrite-target', 'canary-weight', 'affinity', 'proxy-body-size', 'enable-cors', 'cors-allow-origin', 'whitelist-source-range', 'permanent-redirect', 'server-alias', 'custom-http-errors', 'x', 'canary-by-header-pattern');
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), (anns) => {
        const r = parseAnnotations(nginx(anns));
        expect(typeof r.config).toBe('object');
      }),
    );
  });
});
