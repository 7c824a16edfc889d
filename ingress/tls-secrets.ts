/**
 * `kubernetes.io/tls` Secrets → certificate entries, and the SNI lookup ingress-nginx's
 * certificate.lua does: exact host, then the host with its first label replaced by `*.`,
 * then the default (fake) certificate.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from 'kubernetes-types/core/v1.js';
import { isWildcardHost, wildcardOf } from './match-host.js';

export interface Certificate {
  /** `namespace/name` of the Secret. */
  secret: string;
  cert: string;
  key: string;
  /** The Secret's resourceVersion, so the shell can cache secure contexts. */
  version: string;
  x509: X509Certificate;
}

/** What a server presents: a Secret's certificate, or the default one (with why). */
export type TlsEntry = { kind: 'secret'; certificate: Certificate } | { kind: 'default'; reason: string };

export type ParsedSecret = { ok: true; certificate: Certificate } | { ok: false; reason: string };

/** Reads `tls.crt` / `tls.key` (base64 `data`, or `stringData` as some tools leave it). */
export function parseTlsSecret(secret: Secret): ParsedSecret {
  const name = `${secret.metadata?.namespace ?? 'default'}/${secret.metadata?.name ?? ''}`;
  const read = (k: string): string | undefined => {
    const b64 = secret.data?.[k];
    if (b64 !== undefined) return Buffer.from(b64, 'base64').toString('utf8');
    return secret.stringData?.[k];
  };
  const cert = read('tls.crt');
  const key = read('tls.key');
  if (!cert || !key) return { ok: false, reason: `Secret ${name} has no tls.crt and tls.key` };
  try {
    const x509 = new X509Certificate(cert);
    createPrivateKey(key);
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      return { ok: false, reason: `Secret ${name}: tls.key does not match tls.crt` };
    }
    return { ok: true, certificate: { secret: name, cert, key, version: secret.metadata?.resourceVersion ?? '', x509 } };
  } catch (err) {
    return { ok: false, reason: `Secret ${name} does not hold a valid PEM certificate and key: ${(err as Error).message}` };
  }
}

/** Does the certificate cover this host (SAN, or CN when there are no SANs, as Go's fallback)? */
export function certificateCovers(c: Certificate, host: string): boolean {
  // A wildcard server name is covered when a name in its one-label range is.
  const probe = isWildcardHost(host) ? 'knet-probe' + host.slice(1) : host;
  if (c.x509.checkHost(probe) !== undefined) return true;
  if (!c.x509.subjectAltName) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(c.x509.subject)?.[1];
    if (cn && cn.toLowerCase() === host) return true;
  }
  return false;
}

/** SNI → entry: exact name, then its `*.` form, else undefined (the caller uses the default). */
export function lookupCertificate<T>(entries: ReadonlyMap<string, T>, servername: string | undefined): T | undefined {
  if (!servername) return undefined;
  let host = servername.toLowerCase();
  while (host.endsWith('.')) host = host.slice(0, -1);
  const hit = entries.get(host);
  if (hit !== undefined) return hit;
  const wc = wildcardOf(host);
  return wc === undefined ? undefined : entries.get(wc);
}
