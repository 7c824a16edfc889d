/**
 * The cluster's PKI, as kubeadm lays it out for a control plane: a CA, the apiserver's serving
 * certificate signed by it, an admin credential (a client certificate with CN kubernetes-admin,
 * O system:masters, and a bearer token) and the service-account signing key (sa.key, sa.pub;
 * base/serviceaccount/signing-key.ts). Generated at the cluster's first
 * start into `<state dir>/<cluster>/pki/` (every file 0600) and kept: a restarted cluster keeps
 * its CA, so kubeconfigs handed out stay valid. The serving certificate is issued again when
 * the addresses it must name change.
 *
 * ECDSA P-256 keys (what kubeadm's `--encryption-algorithm ECDSA-P256` makes): fast to generate,
 * so a throwaway test cluster pays about a millisecond for its PKI. X.509 is @peculiar/x509.
 */
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
// @peculiar/x509 resolves its crypto through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ensureSigningKey, type SigningKey } from '../base/serviceaccount/signing-key.js';

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  adminToken: string;
  /** The service-account token signing key (sa.key, sa.pub), as kubeadm keeps it. */
  serviceAccountKey: SigningKey;
}

/** What the serving certificate must name. */
export interface ServingNames {
  ips: string[];
  dnsNames: string[];
}

const ALG: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'apiserver.crt',
  serverKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  adminToken: 'admin.token',
} as const;

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The admin user's identity, as kubeadm's admin.conf carries it. */
export const ADMIN_USER = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

/**
 * Loads the cluster's PKI from `dir`, creating what is missing: the CA and admin credential
 * once, the serving certificate again whenever it does not name every one of `names`.
 */
export async function ensurePki(dir: string, names: ServingNames): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (k: keyof typeof FILES) => path.join(dir, FILES[k]);
  if (!existsSync(file('caCert')) || !existsSync(file('caKey'))) {
    const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=kubernetes',
      notBefore: backdated(),
      notAfter: new Date(Date.now() + 10 * YEAR_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    // The key first: a CA certificate without its key would be unusable.
    writePrivate(file('caKey'), await pemKey(keys.privateKey));
    writePrivate(file('caCert'), ca.toString('pem'));
  }
  const caPem = readFileSync(file('caCert'), 'utf8');
  const ca = new x509.X509Certificate(caPem);
  let caKey: CryptoKey | undefined;
  const signer = async () => (caKey ??= await importKey(readFileSync(file('caKey'), 'utf8')));

  if (!existsSync(file('serverCert')) || !existsSync(file('serverKey')) || !namesAll(readFileSync(file('serverCert'), 'utf8'), names)) {
    const { cert, key } = await issue(ca, await signer(), 'CN=kube-apiserver', [x509.ExtendedKeyUsage.serverAuth], [
      ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...names.ips.map((value) => ({ type: 'ip' as const, value })),
    ]);
    writePrivate(file('serverKey'), key);
    writePrivate(file('serverCert'), cert);
  }
  if (!existsSync(file('adminCert')) || !existsSync(file('adminKey'))) {
    const { cert, key } = await issue(ca, await signer(), `CN=${ADMIN_USER.name}, O=system:masters`, [x509.ExtendedKeyUsage.clientAuth], []);
    writePrivate(file('adminKey'), key);
    writePrivate(file('adminCert'), cert);
  }
  if (!existsSync(file('adminToken'))) writePrivate(file('adminToken'), randomBytes(32).toString('base64url') + '\n');
  const read = (k: keyof typeof FILES) => readFileSync(file(k), 'utf8');
  return {
    dir,
    caCert: caPem,
    serverCert: read('serverCert'),
    serverKey: read('serverKey'),
    adminCert: read('adminCert'),
    adminKey: read('adminKey'),
    adminToken: read('adminToken').trim(),
    serviceAccountKey: ensureSigningKey(dir),
  };
}

async function issue(ca: x509.X509Certificate, caKey: CryptoKey, subject: string, usages: string[], sans: Array<{ type: 'dns' | 'ip'; value: string }>): Promise<{ cert: string; key: string }> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.subject,
    notBefore: backdated(),
    notAfter: new Date(Date.now() + YEAR_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ...(sans.length ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemKey(keys.privateKey) };
}

/** Whether a serving certificate names every address and DNS name it must (and is not expiring). */
function namesAll(pem: string, names: ServingNames): boolean {
  try {
    const cert = new X509Certificate(pem);
    if (Date.parse(cert.validTo) - Date.now() < 30 * 24 * 3600 * 1000) return false;
    const have = new Set((cert.subjectAltName ?? '').split(', ').map((s) => s.replace(/^IP Address:/, 'ip:').replace(/^DNS:/, 'dns:')));
    return names.ips.every((ip) => have.has(`ip:${ip}`)) && names.dnsNames.every((d) => have.has(`dns:${d}`));
  } catch {
    return false;
  }
}

/** A second's slack for clocks that disagree a little (several machines sharing a cluster). */
function backdated(): Date {
  return new Date(Date.now() - 60_000);
}

function serial(): string {
  // Positive (high bit clear), as RFC 5280 requires.
  const b = randomBytes(16);
  b[0]! &= 0x7f;
  return b.toString('hex');
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem);
  return crypto.subtle.importKey('pkcs8', der!, ALG, false, ['sign']);
}

function writePrivate(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The serving names of the apiserver of a cluster: its address, the `kubernetes` ClusterIP, the Service's DNS names, localhost. */
export function servingNames(apiServerAddress: string, kubernetesServiceIP: string, clusterDomain: string): ServingNames {
  const ips = [...new Set([apiServerAddress, kubernetesServiceIP, '127.0.0.1'])].filter((ip) => isIP(ip));
  return { ips, dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${clusterDomain}`, 'localhost'] };
}
