/**
 * Self-signed X.509 certificates built with node:crypto alone (no `openssl` binary): the
 * controller's default "fake" certificate, shaped like ingress-nginx's (ssl.go: RSA-2048,
 * O=Acme Co, CN=Kubernetes Ingress Controller Fake Certificate, SAN ingress.local,
 * 365 days), and test certificates. Node can sign but has no certificate builder, so the
 * DER is assembled here; it is small because only the fields we need are written.
 */
import { createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  dnsNames?: string[];
  days?: number;
  /** Mark as a CA (as `openssl req -x509` does) so clients can trust it directly with --cacert. */
  isCA?: boolean;
  keyType?: 'rsa' | 'ec';
}

export interface PemPair {
  cert: string;
  key: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);

let fake: Promise<PemPair> | undefined;

/**
 * The default certificate ingress-nginx generates at start. Generated once per process: an
 * RSA-2048 key costs ~160 ms, which dominated the start of test clusters (several per process).
 */
export function fakeCertificate(): Promise<PemPair> {
  fake ??= selfSignedCertificate({
    organization: 'Acme Co',
    commonName: 'Kubernetes Ingress Controller Fake Certificate',
    dnsNames: ['ingress.local'],
    days: 365,
  });
  return fake;
}

export async function selfSignedCertificate(req: CertificateRequest): Promise<PemPair> {
  const { privateKey } =
    req.keyType === 'ec'
      ? await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return buildCertificate(req, privateKey);
}

/** Synchronous variant for tests (EC keys by default: fast to generate). */
export function selfSignedCertificateSync(req: CertificateRequest): PemPair {
  const { privateKey } =
    req.keyType === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return buildCertificate({ ...req, keyType: req.keyType ?? 'ec' }, privateKey);
}

function buildCertificate(req: CertificateRequest, privateKey: KeyObject): PemPair {
  const rsa = privateKey.asymmetricKeyType === 'rsa';
  const sigAlg = rsa ? seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00])) : seq(oid('1.2.840.10045.4.3.2'));
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const name = seq(
    ...(req.organization ? [set(seq(oid('2.5.4.10'), utf8(req.organization)))] : []),
    set(seq(oid('2.5.4.3'), utf8(req.commonName))),
  );
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + (req.days ?? 365) * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const extensions: Buffer[] = [
    // basicConstraints (critical)
    seq(oid('2.5.29.19'), bool(true), octet(req.isCA ? seq(bool(true)) : seq())),
    // keyUsage (critical): digitalSignature, keyEncipherment (+ keyCertSign for a CA)
    seq(oid('2.5.29.15'), bool(true), octet(bitString(Buffer.from([req.isCA ? 0xa4 : 0xa0])))),
    // extKeyUsage: serverAuth
    seq(oid('2.5.29.37'), octet(seq(oid('1.3.6.1.5.5.7.3.1')))),
  ];
  if (req.dnsNames?.length) {
    extensions.push(seq(oid('2.5.29.17'), octet(seq(...req.dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii')))))));
  }
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), // v3
    int(serial),
    sigAlg,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sigAlg, bitString(signature));
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert, key };
}

// --- DER ---------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(items));
}

function int(bytes: Buffer): Buffer {
  return tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function bool(v: boolean): Buffer {
  return tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
}

function octet(content: Buffer): Buffer {
  return tlv(0x04, content);
}

function bitString(content: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
}

function utf8(s: string): Buffer {
  return tlv(0x0c, Buffer.from(s, 'utf8'));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let n = Math.floor(p / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2) + 'Z', 'ascii')) : tlv(0x18, Buffer.from(iso + 'Z', 'ascii'));
}
