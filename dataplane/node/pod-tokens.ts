/**
 * The kubelet's token manager (pkg/kubelet/token/token_manager.go) for the projected
 * `serviceAccountToken` volume sources of this node's pods: one token per pod, audience and
 * lifetime, kept until it needs refreshing — once 80 % of its lifetime has passed, or it is
 * older than 24 hours — so the pod's token file changes on that schedule, not on every read.
 *
 * Where the kubelet sends a TokenRequest bound to the pod, the node agent signs the same token
 * itself with the cluster's key (base/serviceaccount/token-issuer.ts): same claims, same
 * extended lifetime for the 3607 s default, verified by the apiserver like any other. The
 * kubelet's random jitter of up to 10 s on the refresh time is left out.
 */
import type { Node, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { TokenIssuer } from '../base/serviceaccount/token-issuer.js';
import { podServiceAccountName } from '../base/admission/service-account.js';

const MAX_TTL_MS = 24 * 3600 * 1000;

export interface PodTokenSources {
  /** The signer (undefined: the cluster has no signing key here, so no tokens). */
  issuer(): TokenIssuer | undefined;
  serviceAccount(namespace: string, name: string): ServiceAccount | undefined;
  node(name: string): Node | undefined;
  /** Milliseconds since the epoch. */
  now(): number;
}

interface Cached {
  token: string;
  /** When it was issued and when its TokenRequest status says it expires (ms). */
  issuedAt: number;
  expiresAt: number;
}

export class PodTokens {
  private readonly byPod = new Map<string, Map<string, Cached>>();

  constructor(private readonly sources: PodTokenSources) {}

  /** The pod's current token for `audience` and `expirationSeconds` (default 3600), or undefined when none can be issued. */
  token(pod: Pod, audience: string | undefined, expirationSeconds: number | undefined): string | undefined {
    const uid = pod.metadata?.uid ?? '';
    const key = `${audience ?? ''}|${expirationSeconds ?? 3600}`;
    let tokens = this.byPod.get(uid);
    const cached = tokens?.get(key);
    const now = this.sources.now();
    if (cached && !requiresRefresh(cached, now)) return cached.token;
    const issuer = this.sources.issuer();
    const ns = pod.metadata?.namespace ?? 'default';
    const sa = this.sources.serviceAccount(ns, podServiceAccountName(pod));
    // No service account (yet): as the kubelet's failed TokenRequest, no token until it exists.
    if (!issuer || !sa) return cached?.token;
    const node = pod.spec?.nodeName ? this.sources.node(pod.spec.nodeName) : undefined;
    const issued = issuer.issue({ serviceAccount: sa, pod, ...(node ? { node } : {}), audiences: audience ? [audience] : undefined, expirationSeconds: expirationSeconds ?? 3600 });
    if (!tokens) this.byPod.set(uid, (tokens = new Map()));
    // As the kubelet reckons it: issued at the status's expiry minus the lifetime asked for.
    const expiresAt = Date.parse(issued.expirationTimestamp);
    tokens.set(key, { token: issued.token, issuedAt: expiresAt - (expirationSeconds ?? 3600) * 1000, expiresAt });
    return issued.token;
  }

  /** When the first of the pod's tokens needs refreshing (ms since the epoch), if it has any. */
  nextRefresh(podUid: string): number | undefined {
    const tokens = this.byPod.get(podUid);
    if (!tokens?.size) return undefined;
    return Math.min(...[...tokens.values()].map(refreshAt));
  }

  /** The pod is gone: its tokens are dropped. */
  forget(podUid: string): void {
    this.byPod.delete(podUid);
  }
}

/** 80 % of the lifetime, or 24 hours after issue, whichever comes first. */
function refreshAt(c: Cached): number {
  const ttl = c.expiresAt - c.issuedAt;
  return Math.min(c.issuedAt + 0.8 * ttl, c.issuedAt + MAX_TTL_MS);
}

function requiresRefresh(c: Cached, now: number): boolean {
  return now >= refreshAt(c);
}
