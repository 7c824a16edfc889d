/**
 * Host and path routing through the real controller with curl: echoserver pods on
 * 127.52.1.x, the controller on 127.52.0.1, objects fed through a MemoryInformerFactory.
 * Every test runs twice: on the lean server and on node:http (describeEachHttpServer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, endpointSlice, json, NS, service, describeEachHttpServer, World } from './harness.js';

describeEachHttpServer((httpServer) => {
  const w = new World('127.52.0.1', httpServer);
  const echo = (body: string) => JSON.parse(body) as { path: string; host: string; method: string; proto: string; headers: Record<string, string[]>; pod: string; service: string };

  beforeAll(async () => {
    const shopFront = await w.pod('front-1', '127.52.1.1', 'front');
    const cart = await w.pod('cart-1', '127.52.1.2', 'cart');
    const api = await w.pod('api-1', '127.52.1.3', 'api');
    const blog = await w.pod('blog-1', '127.52.1.4', 'blog');
    await w.start({ sourceAddress: '127.52.0.254' });
    w.apply(
      service('front'), endpointSlice('front', [shopFront]),
      service('cart'), endpointSlice('cart', [cart]),
      service('api'), endpointSlice('api', [api]),
      service('blog'), endpointSlice('blog', [blog]),
      service('down'), endpointSlice('down', [{ name: 'down-1', ip: '127.52.1.9', port: 8080, ready: false }]),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop', namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z' },
        spec: {
          ingressClassName: 'nginx',
          rules: [
            {
              host: 'shop.example.com',
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 80 } } } },
                  { path: '/cart', pathType: 'Prefix', backend: { service: { name: 'cart', port: { name: 'http' } } } },
                  { path: '/cart/checkout', pathType: 'Exact', backend: { service: { name: 'api', port: { number: 80 } } } },
                  { path: '/down', pathType: 'Prefix', backend: { service: { name: 'down', port: { number: 80 } } } },
                ],
              },
            },
            { host: '*.blog.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'blog', port: { number: 80 } } } }] } },
          ],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: 'rewrite',
          namespace: NS,
          creationTimestamp: '2025-01-02T00:00:00Z',
          annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/use-regex': 'true' },
        },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'rw.example.com', http: { paths: [{ path: '/something(/|$)(.*)', pathType: 'ImplementationSpecific', backend: { service: { name: 'api', port: { number: 80 } } } }] } }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'moved', namespace: NS, creationTimestamp: '2025-01-03T00:00:00Z', annotations: { 'nginx.ingress.kubernetes.io/permanent-redirect': 'https://www.example.org/new' } },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'old.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 80 } } } }] } }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'small', namespace: NS, creationTimestamp: '2025-01-04T00:00:00Z', annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '1k' } },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'small.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } }] } }] },
      },
    );
    await w.settle();
  });
  afterAll(() => w.close());

  describe('host and path routing (curl)', () => {
    it.each([
      ['shop.example.com', '/', 'front-1'],
      ['shop.example.com', '/products/42', 'front-1'],
      ['shop.example.com', '/cart', 'cart-1'],
      ['shop.example.com', '/cart/items', 'cart-1'],
      ['shop.example.com', '/cart/checkout', 'api-1'],
      ['shop.example.com', '/cartoon', 'front-1'],
      ['SHOP.example.com:8080', '/cart', 'cart-1'],
      ['en.blog.example.com', '/post/1', 'blog-1'],
    ])('Host %s %s → %s', async (host, path, pod) => {
      const r = await curl(['-H', `Host: ${host}`, `${w.http}${path}`]);
      expect(r.status).toBe(200);
      expect(echo(r.body).pod).toBe(pod);
    });

    it('a host matching no rule gets the default backend: nginx\'s 404 page, 146 bytes', async () => {
      const r = await curl(['-H', 'Host: nowhere.example.com', `${w.http}/`]);
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toEqual(['text/html']);
      expect(r.body.length).toBe(146);
      expect(r.body).toContain('<center><h1>404 Not Found</h1></center>');
      const deep = await curl(['-H', 'Host: a.b.blog.example.com', `${w.http}/`]);
      expect(deep.status).toBe(404);
    });

    it('a backend without ready endpoints gives 503', async () => {
      const r = await curl(['-H', 'Host: shop.example.com', `${w.http}/down/x`]);
      expect(r.status).toBe(503);
      expect(r.body).toContain('503 Service Temporarily Unavailable');
    });

    it('the pod gets the raw URI and forwarding headers that are set, not appended', async () => {
      const r = await curl([
        '-H', 'Host: shop.example.com',
        '-H', 'X-Forwarded-For: 6.6.6.6',
        '-H', 'X-Real-IP: 6.6.6.6',
        '-H', 'X-Forwarded-Proto: gopher',
        '-H', 'X-Request-ID: req-123',
        '-H', 'X_Underscore: dropped',
        '-H', 'Proxy: http://evil',
        '--path-as-is',
        `${w.http}/b//c?q=%20x`,
      ]);
      const e = echo(r.body);
      expect(e.path).toBe('/b//c?q=%20x');
      expect(e.host).toBe('shop.example.com');
      expect(e.headers['X-Forwarded-For']).toEqual(['127.0.0.1']);
      expect(e.headers['X-Real-Ip']).toEqual(['127.0.0.1']);
      expect(e.headers['X-Forwarded-Proto']).toEqual(['http']);
      expect(e.headers['X-Forwarded-Host']).toEqual(['shop.example.com']);
      expect(e.headers['X-Forwarded-Port']).toEqual(['80']);
      expect(e.headers['X-Scheme']).toEqual(['http']);
      expect(e.headers['X-Request-Id']).toEqual(['req-123']);
      expect(e.headers['X-Original-Forwarded-For']).toEqual(['6.6.6.6']);
      expect(e.headers['X_underscore']).toBeUndefined();
      expect(e.headers['Proxy']).toBeUndefined();
      expect(r.headers['server']).toEqual(['knet']);
    });

    it('connections to pods come from the controller\'s pod address (sourceAddress)', async () => {
      const front = w.pods.find((p) => p.name === 'front-1')!;
      front.stdout.length = 0;
      await curl(['-H', 'Host: shop.example.com', `${w.http}/whoami`]);
      expect(front.stdout.join('\n')).toMatch(/made to \/whoami to client \(127\.52\.0\.254:\d+\)/);
    });

    it('without a client X-Request-ID the pod gets 32 hex characters', async () => {
      const e = echo((await curl(['-H', 'Host: shop.example.com', `${w.http}/`])).body);
      expect(e.headers['X-Request-Id']![0]).toMatch(/^[0-9a-f]{32}$/);
    });

    it('rewrite-target with capture groups', async () => {
      for (const [from, to] of [['/something', '/'], ['/something/new/path?x=1', '/new/path?x=1']] as const) {
        const e = echo((await curl(['-H', 'Host: rw.example.com', `${w.http}${from}`])).body);
        expect(e.path).toBe(to);
      }
    });

    it('permanent-redirect answers 301 with exactly that Location', async () => {
      const r = await curl(['-H', 'Host: old.example.com', `${w.http}/some/where`]);
      expect(r.status).toBe(301);
      expect(r.headers.location).toEqual(['https://www.example.org/new']);
    });

    it('proxy-body-size: a body over the limit gets 413, by Content-Length and chunked', async () => {
      const big = 'x'.repeat(1025);
      const ok = await curl(['-H', 'Host: small.example.com', '--data-binary', 'x'.repeat(1024), `${w.http}/`]);
      expect(ok.status).toBe(200);
      const byLength = await curl(['-H', 'Host: small.example.com', '--data-binary', big, `${w.http}/`]);
      expect(byLength.status).toBe(413);
      const chunked = await curl(['-H', 'Host: small.example.com', '-H', 'Transfer-Encoding: chunked', '--data-binary', 'y'.repeat(5000), `${w.http}/`]);
      expect(chunked.status).toBe(413);
    });

    it('routes change when the Ingress changes, with no restart', async () => {
      w.apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'late', namespace: NS, creationTimestamp: '2025-02-01T00:00:00Z' },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'late.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'blog', port: { number: 80 } } } }] } }] },
      });
      await w.settle();
      const r = await curl(['-H', 'Host: late.example.com', `${w.http}/`]);
      expect(echo(r.body).pod).toBe('blog-1');
    });

    it('writes an access line per request in ingress-nginx format', async () => {
      w.accessLog.length = 0;
      await curl(['-H', 'Host: shop.example.com', '-A', 'test-agent', `${w.http}/cart/items?x=1`]);
      expect(w.accessLog).toHaveLength(1);
      expect(w.accessLog[0]).toMatch(
        /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/cart\/items\?x=1 HTTP\/1\.1" 200 \d+ "-" "test-agent" \d+ \d+\.\d{3} \[default-cart-http\] \[\] 127\.52\.1\.2:8080 \d+ \d+\.\d{3} 200 [0-9a-f]{32}$/,
      );
    });

    it('exposes Prometheus metrics by ingress, host, path and status', async () => {
      const text = await w.ingress.metrics.metrics();
      expect(text).toMatch(/nginx_ingress_controller_requests\{status="200",method="GET",path="\/cart",namespace="default",ingress="shop",service="cart",canary="",host="shop.example.com"\} \d+/);
      expect(text).toMatch(/nginx_ingress_controller_response_duration_seconds_bucket\{.*service="cart".*\} \d+/);
    });
  });
});

describe('json helper sanity', () => {
  it('parses', () => expect(json({ status: 200, headers: {}, body: '{"a":1}', stderr: '' })).toEqual({ a: 1 }));
});
