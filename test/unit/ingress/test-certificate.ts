/** Test certificates for a host, cached per host (key generation is the slow part). */
import { selfSignedCertificateSync, type PemPair } from '../../../ingress/self-signed-certificate.js';

const cache = new Map<string, PemPair>();

export function testCertificate(...hosts: string[]): PemPair {
  const key = hosts.join(',');
  let pair = cache.get(key);
  if (!pair) cache.set(key, (pair = selfSignedCertificateSync({ commonName: hosts[0]!, dnsNames: hosts, isCA: true })));
  return pair;
}
