/**
 * TLS through the controller with curl --resolve: certificates from kubernetes.io/tls
 * Secrets chosen by SNI, the default certificate otherwise, HTTP → HTTPS 308, HSTS.
 * Every test runs twice: on the lean server and on node:http (describeEachHttpServer).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificateSync, type PemPair } from '../../../ingress/self-signed-certificate.js';
import { curl, endpointSlice, NS, service, tlsSecret, describeEachHttpServer, World } from './harness.js';

describeEachHttpServer((httpServer) => {
  const w = new World('127.52.0.2', httpServer);
  const dir = mkdtempSync(join(tmpdir(), 'knet-ingress-tls-'));
  let shopCert: PemPair;
  let wildCert: PemPair;

  const ingress = (name: string, hosts: string[], tls: Array<{ hosts: string[]; secretName?: string }>, annotations: Record<string, string> = {}) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, creationTimestamp: '2025-01-01T00:00:00Z', annotations },
    spec: {
      ingressClassName: 'nginx',
      tls,
      rules: hosts.map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } })),
    },
  });

  beforeAll(async () => {
    shopCert = selfSignedCertificateSync({ commonName: 'shop.example.com', dnsNames: ['shop.example.com'], isCA: true });
    wildCert = selfSignedCertificateSync({ commonName: '*.apps.example.com', dnsNames: ['*.apps.example.com'], isCA: true });
    writeFileSync(join(dir, 'shop.pem'), shopCert.cert);
    writeFileSync(join(dir, 'wild.pem'), wildCert.cert);
    const pod = await w.pod('web-1', '127.52.2.1', 'web');
    await w.start();
    w.apply(
      service('web'),
      endpointSlice('web', [pod]),
      tlsSecret('shop-tls', shopCert),
      tlsSecret('wild-tls', wildCert),
      ingress('shop', ['shop.example.com'], [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }]),
      ingress('apps', ['*.apps.example.com'], [{ hosts: ['*.apps.example.com'], secretName: 'wild-tls' }]),
      ingress('plain', ['plain.example.com'], []),
      ingress('noredirect', ['nr.example.com'], [{ hosts: ['nr.example.com'], secretName: 'shop-tls' }], { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }),
    );
    await w.settle();
  });
  afterAll(async () => {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const resolve = (host: string) => ['--resolve', `${host}:${w.httpsPort}:${w.controllerIp}`];

  describe('TLS (curl --resolve, SNI)', () => {
    it('serves the Secret\'s certificate for its host, verified against it', async () => {
      const r = await curl([...resolve('shop.example.com'), '--cacert', join(dir, 'shop.pem'), `https://shop.example.com:${w.httpsPort}/cart`]);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body).pod).toBe('web-1');
      expect(r.headers['strict-transport-security']).toEqual(['max-age=31536000; includeSubDomains']);
      const e = JSON.parse(r.body) as { headers: Record<string, string[]> };
      expect(e.headers['X-Forwarded-Proto']).toEqual(['https']);
      expect(e.headers['X-Forwarded-Port']).toEqual(['443']);
    });

    it('a wildcard Secret covers one label under it', async () => {
      const r = await curl([...resolve('team.apps.example.com'), '--cacert', join(dir, 'wild.pem'), `https://team.apps.example.com:${w.httpsPort}/`]);
      expect(r.status).toBe(200);
    });

    it('other names get the default certificate (verification against the Secret fails)', async () => {
      await expect(curl([...resolve('plain.example.com'), '--cacert', join(dir, 'shop.pem'), `https://plain.example.com:${w.httpsPort}/`])).rejects.toThrow(/certificate|SSL/i);
      const insecure = await curl([...resolve('plain.example.com'), '-k', '-v', `https://plain.example.com:${w.httpsPort}/`]);
      expect(insecure.status).toBe(200);
      expect(insecure.stderr).toMatch(/subject: O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate/);
    });

    it('a client sending no SNI gets the default certificate', async () => {
      const r = await curl(['-k', '-v', '-H', 'Host: shop.example.com', `https://${w.controllerIp}:${w.httpsPort}/`]);
      expect(r.status).toBe(200);
      expect(r.stderr).toMatch(/subject: O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate/);
    });

    it('HTTP to a TLS host redirects with 308 to https://host<uri>', async () => {
      const r = await curl(['-H', 'Host: shop.example.com', `${w.http}/cart/`]);
      expect(r.status).toBe(308);
      expect(r.headers.location).toEqual(['https://shop.example.com/cart']);
      const plain = await curl(['-H', 'Host: plain.example.com', `${w.http}/x`]);
      expect(plain.status).toBe(200);
    });

    it('ssl-redirect "false" serves HTTP', async () => {
      const r = await curl(['-H', 'Host: nr.example.com', `${w.http}/`]);
      expect(r.status).toBe(200);
    });

    it('a Secret rotation is picked up without a restart', async () => {
      const next = selfSignedCertificateSync({ commonName: 'shop.example.com', dnsNames: ['shop.example.com'], isCA: true });
      writeFileSync(join(dir, 'next.pem'), next.cert);
      w.apply(tlsSecret('shop-tls', next));
      await w.settle();
      const r = await curl([...resolve('shop.example.com'), '--cacert', join(dir, 'next.pem'), `https://shop.example.com:${w.httpsPort}/`]);
      expect(r.status).toBe(200);
    });
  });
});
