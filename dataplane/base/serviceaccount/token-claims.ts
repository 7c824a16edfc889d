/**
 * The claims of a service-account token and what they mean, as the apiserver's TokenRequest
 * and its service-account authenticator read them (pkg/serviceaccount/claims.go,
 * pkg/registry/core/serviceaccount/storage/token.go). Pure: the time and the objects a token
 * is bound to are arguments.
 *
 *   iss  the cluster's issuer, https://kubernetes.default.svc.<cluster domain> (kubeadm's)
 *   sub  system:serviceaccount:<namespace>:<name>
 *   aud  the requested audiences, by default the apiserver's own (the issuer)
 *   exp, iat, nbf, jti
 *   kubernetes.io: namespace, serviceaccount {name, uid}, the object it is bound to (pod,
 *        secret or node {name, uid}; a pod-bound token also names the pod's node), warnafter
 *
 * Extended expiry (the apiserver's --service-account-extend-token-expiration, on by default):
 * a pod-bound token asked for with the kubelet's 3607 s, for the apiserver's audiences, is
 * valid for a year; `warnafter` records the 3607 s, and the TokenRequest's status still says
 * 3607 s, so the kubelet refreshes it on that schedule. Old clients that read the file once
 * keep working.
 */
import type { Node, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';

/** The kubelet's projected-token lifetime: an hour plus 7 s, so the apiserver can tell it from a user's hour. */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 3607;
export const EXPIRATION_EXTENSION_SECONDS = 365 * 24 * 3600;
/** The TokenRequest default and its minimum (spec.expirationSeconds). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
export const MIN_EXPIRATION_SECONDS = 600;
/** go-jose's jwt.DefaultLeeway: clocks may disagree by a minute. */
export const LEEWAY_SECONDS = 60;

export interface ObjectRef {
  name: string;
  uid: string;
}

export interface KubernetesClaims {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  warnafter?: number;
}

export interface ServiceAccountClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  'kubernetes.io': KubernetesClaims;
  nbf: number;
  sub: string;
}

/** The user a service-account token authenticates as (k8s.io/apiserver authentication/serviceaccount). */
export interface ServiceAccountUser {
  name: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export const serviceAccountUsername = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;
export const serviceAccountGroups = (namespace: string) => ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];

/** The issuer (and default API audience) of a cluster whose DNS domain is `clusterDomain`. */
export const issuerOf = (clusterDomain: string) => `https://kubernetes.default.svc.${clusterDomain}`;

export interface TokenGrant {
  serviceAccount: ServiceAccount;
  audiences: string[];
  /** What was asked for (the TokenRequest's spec.expirationSeconds). */
  expirationSeconds: number;
  pod?: Pod;
  secret?: Secret;
  node?: Node;
}

export interface ClaimsContext {
  issuer: string;
  /** The apiserver's audiences (its --api-audiences: the issuer). */
  apiAudiences: string[];
  /** Seconds since the epoch. */
  now: number;
  jti: string;
}

const ref = (o: { metadata?: { name?: string; uid?: string } }): ObjectRef => ({ name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '' });

/** The claims of a token granted now; `expiresAt` is what the TokenRequest's status reports (seconds). */
export function grantClaims(grant: TokenGrant, ctx: ClaimsContext): { claims: ServiceAccountClaims; expiresAt: number } {
  const sa = grant.serviceAccount;
  const namespace = sa.metadata?.namespace ?? 'default';
  let lifetime = grant.expirationSeconds;
  let warnafter: number | undefined;
  const kubeAudiences = grant.audiences.every((a) => ctx.apiAudiences.includes(a));
  if (grant.pod && grant.expirationSeconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS && kubeAudiences) {
    warnafter = ctx.now + grant.expirationSeconds;
    lifetime = EXPIRATION_EXTENSION_SECONDS;
  }
  // A pod-bound token also names the pod's node (ServiceAccountTokenPodNodeInfo, on since 1.30).
  const node = grant.node ?? undefined;
  const kubernetes: KubernetesClaims = {
    namespace,
    serviceaccount: ref(sa),
    ...(grant.pod ? { pod: ref(grant.pod) } : {}),
    ...(grant.secret ? { secret: ref(grant.secret) } : {}),
    ...(node ? { node: ref(node) } : {}),
    ...(warnafter !== undefined ? { warnafter } : {}),
  };
  const claims: ServiceAccountClaims = {
    aud: grant.audiences,
    exp: ctx.now + lifetime,
    iat: ctx.now,
    iss: ctx.issuer,
    jti: ctx.jti,
    'kubernetes.io': kubernetes,
    nbf: ctx.now,
    sub: serviceAccountUsername(namespace, sa.metadata?.name ?? ''),
  };
  return { claims, expiresAt: ctx.now + grant.expirationSeconds };
}

/** Where the authenticator looks the bound objects up (the apiserver's cache). */
export interface BoundObjects {
  serviceAccount(namespace: string, name: string): ServiceAccount | undefined;
  pod(namespace: string, name: string): Pod | undefined;
  secret(namespace: string, name: string): Secret | undefined;
  node(name: string): Node | undefined;
}

export type ClaimsCheck = { ok: true; user: ServiceAccountUser } | { ok: false; reason: string };

/**
 * Whether verified claims authenticate now, and as whom: issuer, time window (with the leeway),
 * audiences, and the service account and bound object still there with the same uid (a token
 * dies with its pod). Never throws.
 */
export function checkClaims(raw: unknown, ctx: { issuer: string; apiAudiences: string[]; now: number }, objects: BoundObjects): ClaimsCheck & { audiences?: string[] } {
  const c = raw as Partial<ServiceAccountClaims>;
  if (c.iss !== ctx.issuer) return { ok: false, reason: 'token issuer is not this cluster' };
  const k = c['kubernetes.io'];
  if (typeof c.sub !== 'string' || !k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') return { ok: false, reason: 'token lacks the service-account claims' };
  if (typeof c.exp !== 'number' || ctx.now > c.exp + LEEWAY_SECONDS) return { ok: false, reason: 'service account token has expired' };
  if (typeof c.nbf === 'number' && ctx.now < c.nbf - LEEWAY_SECONDS) return { ok: false, reason: 'service account token is not valid yet' };
  if (typeof c.iat === 'number' && ctx.now < c.iat - LEEWAY_SECONDS) return { ok: false, reason: 'service account token issued in the future' };
  const aud = Array.isArray(c.aud) ? c.aud : typeof c.aud === 'string' ? [c.aud] : [];
  const audiences = aud.filter((a) => ctx.apiAudiences.includes(a));
  if (!audiences.length) return { ok: false, reason: 'token audiences are invalid for the target audiences' };
  const ns = k.namespace;
  if (c.sub !== serviceAccountUsername(ns, k.serviceaccount.name)) return { ok: false, reason: 'token subject does not match its service account' };
  const sa = objects.serviceAccount(ns, k.serviceaccount.name);
  const gone = live(sa, k.serviceaccount, `service account ${ns}/${k.serviceaccount.name}`, ctx.now);
  if (gone) return { ok: false, reason: gone };
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    const problem = live(objects.pod(ns, k.pod.name), k.pod, `pod ${ns}/${k.pod.name}`, ctx.now);
    if (problem) return { ok: false, reason: problem };
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.secret) {
    const problem = live(objects.secret(ns, k.secret.name), k.secret, `secret ${ns}/${k.secret.name}`, ctx.now);
    if (problem) return { ok: false, reason: problem };
  }
  if (k.node) {
    // A node-bound token needs its node; a pod-bound one only names it.
    if (!k.pod) {
      const problem = live(objects.node(k.node.name), k.node, `node ${k.node.name}`, ctx.now);
      if (problem) return { ok: false, reason: problem };
    }
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  if (typeof c.jti === 'string' && c.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
  return { ok: true, user: { name: c.sub, uid: k.serviceaccount.uid, groups: serviceAccountGroups(ns), extra }, audiences };
}

/** Why a bound object no longer backs the token (missing, replaced, or deleted over a leeway ago), or undefined. */
function live(o: { metadata?: { uid?: string; deletionTimestamp?: string } } | undefined, want: ObjectRef, what: string, now: number): string | undefined {
  if (!o) return `${what} not found`;
  if (o.metadata?.uid !== want.uid) return `${what} uid (${o.metadata?.uid ?? ''}) does not match claim (${want.uid})`;
  const deleted = o.metadata?.deletionTimestamp ? Date.parse(o.metadata.deletionTimestamp) / 1000 : undefined;
  if (deleted !== undefined && deleted < now - LEEWAY_SECONDS) return `${what} has been deleted`;
  return undefined;
}
