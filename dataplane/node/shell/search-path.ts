/**
 * Which names a resolver asks the DNS for, in order, for one name a program looks up — the
 * search-list rules of /etc/resolv.conf (`search`, `options ndots:N`) as the two C libraries
 * of the toolbox images apply them:
 *
 *   glibc (res_nsearch; Debian-based images such as jessie-dnsutils, and busybox's glibc build):
 *     trailing dot        → the name only;
 *     dots ≥ ndots        → the name as it is first, then with each search domain;
 *     dots < ndots        → with each search domain first, then the name as it is.
 *   musl (name_from_dns_search; Alpine-based images: alpine, curlimages/curl, netshoot):
 *     trailing dot or dots ≥ ndots → the name only (no search at all);
 *     dots < ndots        → with each search domain, then the name as it is.
 *
 * So with Kubernetes' ndots:5, `web` is asked as web.<ns>.svc.cluster.local first, and
 * `example.com` costs three NXDOMAINs before the real question. A resolver stops at the first
 * candidate that has an answer (resolveName in pod-resolver.ts). Pure.
 */
export type LibcFlavour = 'glibc' | 'musl';

export function searchCandidates(name: string, searches: readonly string[], ndots: number, flavour: LibcFlavour = 'glibc'): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = (name.match(/\./g) ?? []).length;
  const withSearch = searches.map((s) => `${name}.${s.replace(/\.$/, '')}`);
  if (dots >= ndots) return flavour === 'musl' ? [name] : [name, ...withSearch];
  return [...withSearch, name];
}
