/**
 * Host matching. An Ingress host is precise (`foo.bar.com`) or a wildcard whose `*` is the
 * whole first label and matches exactly one label (`*.foo.com` matches `bar.foo.com`, not
 * `baz.bar.foo.com` nor `foo.com`). A rule without a host matches every host; nginx's
 * lookup prefers exact names over wildcards and otherwise falls to the catch-all `_`.
 */

/** The catch-all server's name, as ingress-nginx calls it. */
export const CATCH_ALL = '_';

/**
 * The name a request is routed by: the Host header (or an absolute-form URI's host)
 * lowercased, without port and without a trailing dot — what nginx puts in `$host`.
 */
export function normalizeHost(host: string | undefined): string {
  if (!host) return '';
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end < 0 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

export function isWildcardHost(host: string): boolean {
  return host.startsWith('*.');
}

/** Does an Ingress host (exact or `*.` wildcard) match a normalized request host? */
export function matchesHost(ruleHost: string, requestHost: string): boolean {
  const rule = ruleHost.toLowerCase();
  if (!isWildcardHost(rule)) return rule === requestHost;
  const suffix = rule.slice(1); // ".foo.com"
  if (!requestHost.endsWith(suffix)) return false;
  const label = requestHost.slice(0, requestHost.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** `bar.foo.com` → `*.foo.com`: the one wildcard that can match a host (certificate.lua does the same). */
export function wildcardOf(host: string): string | undefined {
  const dot = host.indexOf('.');
  if (dot <= 0) return undefined;
  return '*' + host.slice(dot);
}

/**
 * Finds the server for a request host: exact names (hosts and aliases) first, then the
 * wildcard covering it, then the catch-all. Since a wildcard covers exactly one label,
 * at most one wildcard can match, so no ordering among wildcards is needed.
 */
export function lookupServer<S>(exact: ReadonlyMap<string, S>, requestHost: string): S | undefined {
  const hit = exact.get(requestHost);
  if (hit !== undefined) return hit;
  const wc = wildcardOf(requestHost);
  if (wc !== undefined) {
    const w = exact.get(wc);
    if (w !== undefined) return w;
  }
  return exact.get(CATCH_ALL);
}

/**
 * The Ingress API's host validation, reduced to what matters for routing: a DNS name or a
 * `*.`-wildcard of one, not an IP. Returns why a host is invalid, or undefined.
 */
export function hostError(host: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':')) return `host ${host}: must be a DNS name, not an IP address`;
  const name = isWildcardHost(host) ? host.slice(2) : host;
  const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => label.test(l) && l.length <= 63)) {
    return `host ${host}: must be a lowercase RFC 1123 DNS name (optionally starting with "*.")`;
  }
  return undefined;
}
