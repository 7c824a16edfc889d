/**
 * SNI → SecureContext for the HTTPS listeners. The certificate for a name comes from the
 * current route table (exact host, then its `*.` form); anything else, and a client sending
 * no SNI, gets the default certificate. Contexts are cached per Secret (and rebuilt when
 * its PEM changes) so a handshake does not parse PEM.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { RouteTable } from './route-table.js';
import { lookupCertificate, type Certificate } from './tls-secrets.js';
import type { PemPair } from './self-signed-certificate.js';

export class TlsContexts {
  readonly defaultContext: SecureContext;
  private readonly cache = new Map<string, { cert: string; key: string; context: SecureContext }>();

  constructor(
    readonly defaultCertificate: PemPair,
    private readonly table: () => RouteTable,
  ) {
    this.defaultContext = this.create(defaultCertificate.cert, defaultCertificate.key);
  }

  /** The context for a ClientHello's server name. */
  contextFor(servername: string | undefined): SecureContext {
    const entry = lookupCertificate(this.table().certificates, servername);
    if (!entry || entry.kind !== 'secret') return this.defaultContext;
    return this.forCertificate(entry.certificate);
  }

  /** `tls.Server`'s SNICallback; never throws into the TLS stack. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    try {
      cb(null, this.contextFor(servername));
    } catch {
      cb(null, this.defaultContext);
    }
  };

  /** Drops contexts of Secrets no longer in the table. */
  prune(table: RouteTable): void {
    const live = new Set<string>();
    for (const e of table.certificates.values()) if (e.kind === 'secret') live.add(e.certificate.secret);
    for (const k of this.cache.keys()) if (!live.has(k)) this.cache.delete(k);
  }

  private forCertificate(c: Certificate): SecureContext {
    const hit = this.cache.get(c.secret);
    if (hit && hit.cert === c.cert && hit.key === c.key) return hit.context;
    const context = this.create(c.cert, c.key);
    this.cache.set(c.secret, { cert: c.cert, key: c.key, context });
    return context;
  }

  private create(cert: string, key: string): SecureContext {
    // TLSv1.2 and 1.3, as ingress-nginx's default ssl-protocols.
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  }
}
