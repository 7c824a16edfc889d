/**
 * JSON Web Tokens as the apiserver's service-account token generator writes them
 * (pkg/serviceaccount/jwt.go over go-jose): compact JWS, `{"alg":"ES256","kid":…}` header,
 * ECDSA P-256 signature as the raw 64-byte r‖s (RFC 7518 §3.4), base64url without padding.
 * Only ES256: the key knet makes (signing-key.ts) is a P-256 key, as kubeadm's is with
 * `encryptionAlgorithm: ECDSA-P256`.
 *
 * `verifyJwt` checks the shape and the signature only; what the claims mean (expiry, issuer,
 * audience, the objects they bind to) is token-claims.ts.
 */
import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

export type JwtVerification<T> = { ok: true; header: JwtHeader; claims: T } | { ok: false; reason: string };

const ALG = 'ES256';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(claims: object, key: KeyObject, keyId?: string): string {
  const header: JwtHeader = { alg: ALG, ...(keyId ? { kid: keyId } : {}) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

/** The claims of a token signed by `key`, or why it is not one. Never throws. */
export function verifyJwt<T = Record<string, unknown>>(token: string, key: KeyObject): JwtVerification<T> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'not a compact JWS' };
  const [h, c, s] = parts as [string, string, string];
  const header = parseJson(h);
  if (!isObject(header) || typeof header.alg !== 'string') return { ok: false, reason: 'malformed header' };
  if (header.alg !== ALG) return { ok: false, reason: `unsupported signing algorithm ${JSON.stringify(header.alg)}` };
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) return { ok: false, reason: 'invalid signature' };
  let valid = false;
  try {
    valid = verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'invalid signature' };
  const claims = parseJson(c);
  if (!isObject(claims)) return { ok: false, reason: 'malformed claims' };
  return { ok: true, header: header as unknown as JwtHeader, claims: claims as T };
}

/** Without verifying it: whether a bearer token looks like a JWT at all (the apiserver's first check, so other tokens go to other authenticators). */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const header = parseJson(parts[0]!);
  return isObject(header) && typeof header.alg === 'string';
}

/**
 * The key ID the apiserver publishes for a public key (pkg/serviceaccount/jwt.go keyIDFromPublicKey):
 * the SHA-256 of its DER (SubjectPublicKeyInfo), base64url without padding.
 */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
