/**
 * Issuing and authenticating service-account tokens with the cluster's signing key: the
 * apiserver's TokenRequest and its service-account authenticator, and the node agent's
 * projected tokens (it signs what the kubelet would get from TokenRequest, with the same key
 * and claims). Claims and their checks are token-claims.ts; signatures jwt.ts.
 */
import { randomUUID } from 'node:crypto';
import { signJwt, verifyJwt } from './jwt.js';
import type { SigningKey } from './signing-key.js';
import { checkClaims, grantClaims, issuerOf, type BoundObjects, type ClaimsCheck, type ServiceAccountClaims, type TokenGrant } from './token-claims.js';

/** How many verified tokens are remembered. */
const VERIFIED_CACHE_SIZE = 4096;

export interface IssuedToken {
  token: string;
  /** RFC 3339, what the TokenRequest's status.expirationTimestamp says. */
  expirationTimestamp: string;
  claims: ServiceAccountClaims;
}

export interface TokenIssuerOptions {
  key: SigningKey;
  clusterDomain: string;
  /** Milliseconds since the epoch (default Date.now): tests move time. */
  now?: () => number;
}

export class TokenIssuer {
  readonly issuer: string;
  readonly apiAudiences: string[];
  private readonly now: () => number;
  /** Tokens whose signature verified, oldest first (a bounded FIFO). */
  private readonly verified = new Map<string, unknown>();

  constructor(private readonly opts: TokenIssuerOptions) {
    this.issuer = issuerOf(opts.clusterDomain);
    this.apiAudiences = [this.issuer];
    this.now = opts.now ?? Date.now;
  }

  /** A signed token for `grant` (audiences default to the apiserver's). */
  issue(grant: Omit<TokenGrant, 'audiences'> & { audiences?: string[] }): IssuedToken {
    const audiences = grant.audiences?.length ? grant.audiences : this.apiAudiences;
    const now = Math.floor(this.now() / 1000);
    const { claims, expiresAt } = grantClaims({ ...grant, audiences }, { issuer: this.issuer, apiAudiences: this.apiAudiences, now, jti: randomUUID() });
    return { token: signJwt(claims, this.opts.key.privateKey, this.opts.key.keyId), expirationTimestamp: new Date(expiresAt * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), claims };
  }

  /**
   * Who a bearer token is, if it is a live token of this cluster meant for one of `audiences`
   * (default: the apiserver's own; a TokenReview may name others). `audiences` in the answer:
   * those the token was accepted for.
   */
  authenticate(token: string, objects: BoundObjects, audiences: string[] = this.apiAudiences): ClaimsCheck & { audiences?: string[] } {
    // The signature is checked once per token (an ECDSA verify costs ~0.15 ms, a client sends
    // the same token with every request); the claims — time, audience, the bound objects — every time.
    let claims = this.verified.get(token);
    if (!claims) {
      const v = verifyJwt(token, this.opts.key.publicKey);
      if (!v.ok) return v;
      claims = v.claims;
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, claims);
    }
    return checkClaims(claims, { issuer: this.issuer, apiAudiences: audiences, now: Math.floor(this.now() / 1000) }, objects);
  }
}
