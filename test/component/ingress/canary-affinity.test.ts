/**
 * Canary weight and headers, and cookie affinity, through the controller with curl.
 * Every test runs twice: on the lean server and on node:http (describeEachHttpServer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, curlMany, endpointSlice, NS, service, describeEachHttpServer, World, type Pod } from './harness.js';

describeEachHttpServer((httpServer) => {
  const w = new World('127.52.0.3', httpServer);
  let stable: Pod[];
  let sticky: Pod[];

  const ing = (name: string, host: string, svc: string, created: string, annotations: Record<string, string> = {}) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, creationTimestamp: created, annotations },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  });

  beforeAll(async () => {
    stable = [await w.pod('stable-1', '127.52.3.1', 'stable'), await w.pod('stable-2', '127.52.3.2', 'stable')];
    const next = await w.pod('next-1', '127.52.3.3', 'next');
    sticky = [1, 2, 3, 4].map(() => undefined as unknown as Pod);
    for (let i = 0; i < 4; i++) sticky[i] = await w.pod(`sticky-${i + 1}`, `127.52.3.${10 + i}`, 'sticky');
    await w.start();
    w.apply(
      service('stable'), endpointSlice('stable', stable),
      service('next'), endpointSlice('next', [next]),
      service('sticky'), endpointSlice('sticky', sticky),
      ing('app', 'app.example.com', 'stable', '2025-01-01T00:00:00Z'),
      ing('app-canary', 'app.example.com', 'next', '2025-01-02T00:00:00Z', {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '20',
        'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary',
        'nginx.ingress.kubernetes.io/canary-by-cookie': 'canary',
      }),
      ing('sticky', 'sticky.example.com', 'sticky', '2025-01-01T00:00:00Z', {
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/session-cookie-name': 'route',
        'nginx.ingress.kubernetes.io/session-cookie-max-age': '172800',
      }),
    );
    await w.settle();
  });
  afterAll(() => w.close());

  describe('canary', () => {
    it('weight 20 sends 20% ± 6% of 500 requests to the canary (seeded draws: the same share every run)', async () => {
      const results = await curlMany(`${w.http}/`, 500, ['-H', 'Host: app.example.com']);
      expect(results).toHaveLength(500);
      expect(results.every((r) => r.status === 200)).toBe(true);
      const canary = results.filter((r) => r.pod === 'next-1').length;
      expect(canary / 500).toBeGreaterThanOrEqual(0.14);
      expect(canary / 500).toBeLessThanOrEqual(0.26);
      // The rest is spread over both stable pods.
      expect(new Set(results.filter((r) => r.pod !== 'next-1').map((r) => r.pod))).toEqual(new Set(['stable-1', 'stable-2']));
    });

    it('header beats cookie beats weight', async () => {
      const always = await curlMany(`${w.http}/`, 20, ['-H', 'Host: app.example.com', '-H', 'X-Canary: always']);
      expect(always.every((r) => r.pod === 'next-1')).toBe(true);
      const never = await curlMany(`${w.http}/`, 20, ['-H', 'Host: app.example.com', '-H', 'X-Canary: never', '-b', 'canary=always']);
      expect(never.every((r) => r.pod.startsWith('stable-'))).toBe(true);
      const cookie = await curlMany(`${w.http}/`, 20, ['-H', 'Host: app.example.com', '-b', 'canary=always']);
      expect(cookie.every((r) => r.pod === 'next-1')).toBe(true);
    });
  });

  describe('cookie affinity', () => {
    it('the cookie pins one pod across 20 requests, and moves when that pod\'s endpoint goes away', async () => {
      const first = await curl(['-H', 'Host: sticky.example.com', `${w.http}/`]);
      const setCookie = first.headers['set-cookie']?.[0] ?? '';
      expect(setCookie).toMatch(/^route=[^;]+; Max-Age=172800; Path=\/; HttpOnly$/);
      const cookie = setCookie.split(';')[0]!;
      const pinned = JSON.parse(first.body).pod as string;

      const again = await curlMany(`${w.http}/`, 20, ['-H', 'Host: sticky.example.com', '-b', cookie]);
      expect(again.map((r) => r.pod)).toEqual(Array(20).fill(pinned));

      // Without the cookie requests spread over the pods (so pinning is the cookie's doing).
      const spread = await curlMany(`${w.http}/`, 40, ['-H', 'Host: sticky.example.com']);
      expect(new Set(spread.map((r) => r.pod)).size).toBeGreaterThan(1);

      // The pinned pod is deleted: its endpoint leaves the slice.
      w.apply(endpointSlice('sticky', sticky.filter((p) => p.name !== pinned)));
      await w.settle();
      const moved = await curlMany(`${w.http}/`, 20, ['-H', 'Host: sticky.example.com', '-b', cookie]);
      expect(moved.every((r) => r.status === 200)).toBe(true);
      const target = moved[0]!.pod;
      expect(target).not.toBe(pinned);
      expect(moved.map((r) => r.pod)).toEqual(Array(20).fill(target));
    });
  });
});
