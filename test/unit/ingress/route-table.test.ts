import { describe, expect, it } from 'vitest';
import type { IngressClass } from 'kubernetes-types/networking/v1.js';
import { nginxIngressClass } from '../../../ingress/ingress-class.js';
import { matchesHost, normalizeHost } from '../../../ingress/match-host.js';
import { route, type RouteDecision, type RouteRequest } from '../../../ingress/route.js';
import type { RouteTable } from '../../../ingress/route-table.js';
import { backend, ingress, nginx, path, rule, service, slice, tableFor } from './fixtures.js';

const get = (table: RouteTable, host: string | undefined, p: string, extra: Partial<RouteRequest> = {}): RouteDecision =>
  route(table, { host, path: p, clientIp: '127.0.0.1', scheme: 'http', ...extra });

const served = (d: RouteDecision): string => (d.action === 'proxy' ? d.info.service! : `${d.action}:${'status' in d ? d.status : ''}`);

describe('hosts', () => {
  it.each([
    ['*.foo.com', 'bar.foo.com', true],
    ['*.foo.com', 'baz.bar.foo.com', false],
    ['*.foo.com', 'foo.com', false],
    ['*.foo.com', '.foo.com', false],
    ['foo.bar.com', 'foo.bar.com', true],
    ['foo.bar.com', 'x.foo.bar.com', false],
  ])('%s matches %s → %s', (ruleHost, host, want) => expect(matchesHost(ruleHost, host)).toBe(want));

  it.each([
    ['Foo.Example.COM:8080', 'foo.example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:80', '[::1]'],
    [undefined, ''],
  ])('normalizes Host %s → %s', (h, want) => expect(normalizeHost(h)).toBe(want));

  const table = tableFor({
    ingresses: [
      ingress('hosts', [
        rule('foo.bar.com', path('/', 'Prefix', 'exact-host')),
        rule('*.bar.com', path('/', 'Prefix', 'wildcard-host')),
        rule(undefined, path('/', 'Prefix', 'any-host')),
      ]),
    ],
  });
  it.each([
    ['foo.bar.com', 'exact-host'],
    ['FOO.bar.com:80', 'exact-host'],
    ['baz.bar.com', 'wildcard-host'],
    ['a.baz.bar.com', 'any-host'],
    ['bar.com', 'any-host'],
    ['unknown.example', 'any-host'],
    [undefined, 'any-host'],
  ])('Host %s → %s', (host, want) => expect(served(get(table, host, '/x'))).toBe(want));

  it('without a host-less rule, an unknown host gets the default backend 404', () => {
    const t = tableFor({ ingresses: [ingress('h', [rule('only.example', path('/', 'Prefix', 'svc'))])] });
    expect(served(get(t, 'other.example', '/'))).toBe('respond:404');
    expect(served(get(t, 'only.example', '/'))).toBe('svc');
  });

  it('an absolute-form request-target names the host', () => {
    const t = tableFor({ ingresses: [ingress('h', [rule('only.example', path('/', 'Prefix', 'svc'))])] });
    expect(served(get(t, 'other.example', 'http://only.example/x'))).toBe('svc');
  });
});

describe('merging across Ingresses', () => {
  it('paths for one host from several Ingresses are merged, longest match first', () => {
    const t = tableFor({
      ingresses: [
        ingress('a', [rule('shop.example', path('/', 'Prefix', 'front'))], { created: 1 }),
        ingress('b', [rule('shop.example', path('/cart', 'Prefix', 'cart'))], { created: 2 }),
        ingress('c', [rule('shop.example', path('/cart/checkout', 'Exact', 'checkout'))], { created: 3 }),
      ],
    });
    expect(served(get(t, 'shop.example', '/'))).toBe('front');
    expect(served(get(t, 'shop.example', '/cart/items'))).toBe('cart');
    expect(served(get(t, 'shop.example', '/cart/checkout'))).toBe('checkout');
    expect(served(get(t, 'shop.example', '/cart/checkout/x'))).toBe('cart');
  });

  it('the same host+path+pathType keeps the oldest Ingress and warns on the newer', () => {
    const t = tableFor({
      ingresses: [
        ingress('newer', [rule('x.example', path('/api', 'Prefix', 'new-api'))], { created: 10 }),
        ingress('older', [rule('x.example', path('/api', 'Prefix', 'old-api'))], { created: 5 }),
      ],
    });
    expect(served(get(t, 'x.example', '/api'))).toBe('old-api');
    expect(t.ingresses.find((r) => r.name === 'newer')!.warnings.join()).toMatch(/already defined in ingress default\/older/);
  });

  it('equal creation times: ns/name descending is "older" (ingress-nginx sort)', () => {
    const t = tableFor({
      ingresses: [
        ingress('aaa', [rule('x.example', path('/api', 'Prefix', 'from-aaa'))], { created: 1 }),
        ingress('zzz', [rule('x.example', path('/api', 'Prefix', 'from-zzz'))], { created: 1 }),
      ],
    });
    expect(served(get(t, 'x.example', '/api'))).toBe('from-zzz');
  });

  it('the same path with different pathTypes coexists', () => {
    const t = tableFor({
      ingresses: [
        ingress('a', [rule('x.example', path('/p', 'Prefix', 'prefix'))], { created: 1 }),
        ingress('b', [rule('x.example', path('/p', 'Exact', 'exact'))], { created: 2 }),
      ],
    });
    expect(served(get(t, 'x.example', '/p'))).toBe('exact');
    expect(served(get(t, 'x.example', '/p/q'))).toBe('prefix');
  });
});

describe('default backend', () => {
  it('an Ingress with only a defaultBackend takes every unmatched request (conformance default_backend)', () => {
    const t = tableFor({ ingresses: [ingress('default-backend', [], { defaultBackend: backend('echo-service', 8080) })] });
    for (const [host, p] of [['my-host', '/'], ['some-host', '/sub-path'], [undefined, '/resource']] as const) {
      expect(served(get(t, host, p))).toBe('echo-service');
    }
  });

  it('a defaultBackend with rules covers only that Ingress\'s own hosts', () => {
    const t = tableFor({
      ingresses: [ingress('r', [rule('a.example', path('/app', 'Prefix', 'app'))], { defaultBackend: backend('fallback') })],
    });
    expect(served(get(t, 'a.example', '/app'))).toBe('app');
    expect(served(get(t, 'a.example', '/other'))).toBe('fallback');
    expect(served(get(t, 'b.example', '/other'))).toBe('respond:404');
  });

  it('a path of "/" replaces the host\'s default root location', () => {
    const t = tableFor({
      ingresses: [
        ingress('first', [rule('a.example', path('/x', 'Prefix', 'x'))], { created: 1, defaultBackend: backend('fallback') }),
        ingress('second', [rule('a.example', path('/', 'Prefix', 'root'))], { created: 2 }),
      ],
    });
    expect(served(get(t, 'a.example', '/other'))).toBe('root');
  });

  it('no ready endpoints → 503; a Service that does not exist → 503', () => {
    const t = tableFor({
      ingresses: [ingress('e', [rule('e.example', path('/down', 'Prefix', 'down'), path('/missing', 'Prefix', 'ghost'))])],
      services: [service('down')],
      auto: false,
      slices: [slice('down', [{ ip: '127.52.9.1', ready: false }])],
    });
    const down = get(t, 'e.example', '/down');
    expect(served(down)).toBe('respond:503');
    expect(served(get(t, 'e.example', '/missing'))).toBe('respond:503');
  });
});

describe('backends resolve to pod endpoints', () => {
  it('by Service port number or name, through the EndpointSlice port name, ready only', () => {
    const t = tableFor({
      ingresses: [ingress('p', [rule('p.example', path('/num', 'Prefix', 'multi', 80), path('/name', 'Prefix', 'multi', 'admin'))])],
      services: [service('multi', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'admin', port: 9000, targetPort: 9090 }])],
      slices: [
        slice('multi', [{ ip: '127.52.7.1' }, { ip: '127.52.7.2', ready: false }, { ip: '127.52.7.3' }], [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }]),
      ],
    });
    const num = get(t, 'p.example', '/num');
    const name = get(t, 'p.example', '/name');
    expect(num.action === 'proxy' && num.upstream.endpoints.map((e) => e.id)).toEqual(['127.52.7.1:8080', '127.52.7.3:8080']);
    expect(name.action === 'proxy' && name.upstream.endpoints.map((e) => e.id)).toEqual(['127.52.7.1:9090', '127.52.7.3:9090']);
    expect(num.info.upstreamName).toBe('default-multi-80');
    expect(name.info.upstreamName).toBe('default-multi-admin');
  });

  it('endpoints from several slices are merged and deduplicated', () => {
    const t = tableFor({
      ingresses: [ingress('p', [rule('p.example', path('/', 'Prefix', 'web'))])],
      services: [service('web')],
      slices: [slice('web', [{ ip: '127.52.7.1' }], [{ port: 8080 }], 'default', 'a'), slice('web', [{ ip: '127.52.7.2' }, { ip: '127.52.7.1' }], [{ port: 8080 }], 'default', 'b')],
    });
    const d = get(t, 'p.example', '/');
    expect(d.action === 'proxy' && d.upstream.endpoints.length).toBe(2);
  });
});

describe('which Ingresses are ours', () => {
  const rules = [rule('c.example', path('/', 'Prefix', 'svc'))];
  const other: IngressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'traefik' }, spec: { controller: 'traefik.io/ingress-controller' } };
  const notDefault: IngressClass = { ...nginxIngressClass(), metadata: { name: 'nginx' } };
  const cases: Array<[string, Parameters<typeof ingress>[2], IngressClass[], boolean]> = [
    ['ingressClassName nginx', { className: 'nginx' }, [nginxIngressClass()], true],
    ['ingressClassName of another controller', { className: 'traefik' }, [nginxIngressClass(), other], false],
    ['ingressClassName naming a missing class', { className: 'nope' }, [nginxIngressClass()], false],
    // The apiserver's DefaultIngressClass admission fills the class on create; ingress-nginx
    // itself never reads is-default-class and skips an Ingress left without one.
    ['no class, even with nginx the default class', { className: null }, [nginxIngressClass()], false],
    ['no class, no default class', { className: null }, [notDefault], false],
    ['legacy annotation nginx', { className: null, annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, [notDefault], true],
    ['legacy annotation other', { className: null, annotations: { 'kubernetes.io/ingress.class': 'traefik' } }, [nginxIngressClass()], false],
  ];
  it.each(cases)('%s → %s', (_label, opts, classes, ours) => {
    const t = tableFor({ ingresses: [ingress('c', rules, opts)], classes });
    expect(served(get(t, 'c.example', '/'))).toBe(ours ? 'svc' : 'respond:404');
    expect(t.ingresses.length).toBe(ours ? 1 : 0);
  });
});

describe('refused Ingresses', () => {
  it('a snippet annotation refuses the Ingress with ingress-nginx\'s reason', () => {
    const t = tableFor({
      ingresses: [ingress('snip', [rule('s.example', path('/', 'Prefix', 'svc'))], { annotations: nginx({ 'configuration-snippet': 'more_set_headers "X: y";' }) })],
    });
    expect(served(get(t, 's.example', '/'))).toBe('respond:404');
    expect(t.ingresses[0]).toMatchObject({ served: false, refused: expect.stringMatching(/Snippet directives are disabled/) });
  });

  it('an invalid annotation value refuses the Ingress; other Ingresses are unaffected', () => {
    const t = tableFor({
      ingresses: [
        ingress('bad', [rule('s.example', path('/bad', 'Prefix', 'bad'))], { annotations: nginx({ 'canary-weight': 'lots' }) }),
        ingress('good', [rule('s.example', path('/good', 'Prefix', 'good'))]),
      ],
    });
    expect(served(get(t, 's.example', '/bad'))).toBe('respond:404');
    expect(served(get(t, 's.example', '/good'))).toBe('good');
    expect(t.ingresses.find((r) => r.name === 'bad')!.refused).toMatch(/canary-weight must be an integer/);
  });

  it('an IP as host is refused as the API server would', () => {
    const t = tableFor({ ingresses: [ingress('ip', [rule('127.0.0.1', path('/', 'Prefix', 'svc'))])] });
    expect(t.ingresses[0]!.refused).toMatch(/must be a DNS name, not an IP address/);
  });
});
