/**
 * Authentication, as the apiserver's union authenticator does it: an X.509 client certificate
 * signed by the cluster CA (the user is its CN, the groups its O values), the admin's bearer
 * token, or a service-account token (a JWT signed with the cluster's key: the user
 * `system:serviceaccount:NS:NAME` in `system:serviceaccounts` and `system:serviceaccounts:NS`;
 * base/serviceaccount). Every authenticated user is also in `system:authenticated`. Anything
 * else — an expired, tampered or foreign token, one whose pod or service account is gone — is
 * 401. Authorization then allows every authenticated user (knet has no RBAC; the README says so).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { User } from './api-request.js';
import { ADMIN_USER } from './pki.js';
import type { TokenIssuer } from '../base/serviceaccount/token-issuer.js';
import { looksLikeJwt } from '../base/serviceaccount/jwt.js';
import type { WatchCache } from './watch-cache.js';
import type { TokenReviewer } from './token-review.js';
import type { Node, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';

export interface Credentials {
  /** The admin's bearer token. */
  token: string;
  /** Who another bearer token is (service-account tokens), or undefined: not authenticated. */
  bearer?: (token: string) => User | undefined;
}

const byCert = new WeakMap<object, User | null>();

export function authenticate(req: IncomingMessage, creds: Credentials): User | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m && tokenMatches(m[1]!, creds.token)) return ADMIN_USER;
    const other = m && creds.bearer?.(m[1]!);
    if (other) return other;
  }
  return certificateUser(req.socket as TLSSocket);
}

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The verified client certificate's identity, read once per connection. */
function certificateUser(socket: TLSSocket): User | undefined {
  const known = byCert.get(socket);
  if (known !== undefined) return known ?? undefined;
  let user: User | null = null;
  if (socket.authorized && typeof socket.getPeerCertificate === 'function') {
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    if (cn) {
      const o = cert.subject.O;
      const groups = Array.isArray(o) ? o : o ? [o] : [];
      user = { name: Array.isArray(cn) ? cn[0]! : cn, groups: [...groups, 'system:authenticated'] };
    }
  }
  byCert.set(socket, user);
  return user ?? undefined;
}

/** The objects service-account tokens are bound to, from the apiserver's cache. */
function boundObjects(cache: WatchCache) {
  return {
    serviceAccount: (ns: string, name: string) => cache.get('ServiceAccount', ns, name) as ServiceAccount | undefined,
    pod: (ns: string, name: string) => cache.get('Pod', ns, name) as Pod | undefined,
    secret: (ns: string, name: string) => cache.get('Secret', ns, name) as Secret | undefined,
    node: (name: string) => cache.get('Node', undefined, name) as Node | undefined,
  };
}

/** The service-account token authenticator over the apiserver's cache (the objects a token is bound to). */
export function serviceAccountAuthenticator(tokens: TokenIssuer, cache: WatchCache): (token: string) => User | undefined {
  const review = tokenReviewer('', tokens, cache);
  return (token) => {
    const r = review(token, undefined);
    return 'user' in r ? r.user : undefined;
  };
}

/**
 * The apiserver's token authenticators as a TokenReview runs them: the admin's token (any
 * audience), then service-account tokens for `audiences` (default: the apiserver's).
 */
export function tokenReviewer(adminToken: string, tokens: TokenIssuer, cache: WatchCache): TokenReviewer {
  const objects = boundObjects(cache);
  return (token, audiences) => {
    if (adminToken && tokenMatches(token, adminToken)) return { user: ADMIN_USER, audiences: audiences ?? tokens.apiAudiences };
    if (!looksLikeJwt(token)) return {};
    const who = tokens.authenticate(token, objects, audiences?.length ? audiences : tokens.apiAudiences);
    if (!who.ok) return { error: who.reason };
    return { user: { name: who.user.name, uid: who.user.uid, groups: [...who.user.groups, 'system:authenticated'], extra: who.user.extra }, audiences: who.audiences ?? [] };
  };
}
