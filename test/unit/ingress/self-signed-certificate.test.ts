import { describe, expect, it } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeCertificate, selfSignedCertificateSync } from '../../../ingress/self-signed-certificate.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('self-signed certificates built with node:crypto', () => {
  it('the fake certificate looks like ingress-nginx\'s', async () => {
    const { cert, key } = await fakeCertificate();
    const x = new X509Certificate(cert);
    expect(x.subject).toBe('O=Acme Co\nCN=Kubernetes Ingress Controller Fake Certificate');
    expect(x.subjectAltName).toBe('DNS:ingress.local');
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const days = (Date.parse(x.validTo) - Date.parse(x.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });

  it('SANs cover exact and wildcard names; a CA cert verifies with openssl', () => {
    const { cert } = selfSignedCertificateSync({ commonName: 'a.example', dnsNames: ['a.example', '*.b.example'], isCA: true });
    const x = new X509Certificate(cert);
    expect(x.checkHost('a.example')).toBe('a.example');
    expect(x.checkHost('x.b.example')).toBeDefined();
    expect(x.checkHost('c.example')).toBeUndefined();
    expect(x.ca).toBe(true);
    if (!hasOpenssl()) return;
    const dir = mkdtempSync(join(tmpdir(), 'knet-cert-'));
    try {
      writeFileSync(join(dir, 'c.pem'), cert);
      const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')], { encoding: 'utf8' });
      expect(out).toMatch(/OK/);
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-noout', '-text'], { encoding: 'utf8' });
      expect(text).toMatch(/TLS Web Server Authentication/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
