import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePki, servingNames } from '../../../dataplane/apiserver/pki.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cluster PKI', () => {
  it('issues a CA, a serving certificate with the SANs and an admin credential, all 0600, and keeps them', async () => {
    const names = servingNames('127.18.0.1', '127.96.0.1', 'cluster.local');
    const pki = await ensurePki(dir, names);
    const server = new X509Certificate(pki.serverCert);
    const ca = new X509Certificate(pki.caCert);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    for (const san of ['IP Address:127.18.0.1', 'IP Address:127.96.0.1', 'IP Address:127.0.0.1', 'DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'DNS:kubernetes']) {
      expect(server.subjectAltName).toContain(san);
    }
    const admin = new X509Certificate(pki.adminCert);
    expect(admin.subject).toContain('CN=kubernetes-admin');
    expect(admin.subject).toContain('O=system:masters');
    expect(admin.checkIssued(ca)).toBe(true);
    for (const f of ['ca.key', 'ca.crt', 'apiserver.key', 'apiserver.crt', 'admin.key', 'admin.crt', 'admin.token', 'sa.key', 'sa.pub']) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    // openssl agrees the chain is valid for TLS serving.
    writeFileSync(path.join(dir, 'chk.pem'), pki.serverCert);
    const out = execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), '-purpose', 'sslserver', path.join(dir, 'chk.pem')], { encoding: 'utf8' });
    expect(out).toContain('OK');

    const again = await ensurePki(dir, names);
    expect(again).toEqual(pki);
  });

  it('issues the serving certificate again (same CA) when an address is added', async () => {
    const before = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const pki = await ensurePki(dir, servingNames('127.115.18.1', '127.115.96.1', 'cluster.local'));
    expect(pki.caCert).toBe(before);
    expect(new X509Certificate(pki.serverCert).subjectAltName).toContain('IP Address:127.115.18.1');
  });
});
