/**
 * Question name → plain request value, as CoreDNS's kubernetes plugin (parse.go) reads it.
 * Names are lower-case presentation names without the trailing dot; `zone` is the zone the
 * name fell in (cluster.local, in-addr.arpa or ip6.arpa).
 *
 * Shapes under <zone> (parseRequest):
 *   <zone>                                   apex: NODATA for anything but SOA/NS
 *   svc.<zone> | pod.<zone>                  NODATA
 *   <ns>.svc.<zone> | <ns>.pod.<zone>        NODATA if <ns> exists, else NXDOMAIN
 *   <svc>.<ns>.svc.<zone>                    service
 *   <endpoint>.<svc>.<ns>.svc.<zone>         endpoint (hostname or dashed IP)
 *   <port>.<proto>.<svc>.<ns>.svc.<zone>     SRV-style; underscores optional (`http.tcp.` works)
 *   <a-b-c-d>.<ns>.pod.<zone>                pod (`x.a-b-c-d…` and `_p._t.a-b-c-d…` parse too)
 *   anything whose last label is not svc/pod, or with 3+ labels before <svc>: invalid (NXDOMAIN)
 * Special names, answered outside the grammar (see classifyName):
 *   dns-version.<zone>                       TXT "1.1.0" (only for TXT; other types NXDOMAIN)
 *   ns.dns.<zone>                            A/AAAA of the DNS server (isDefaultNS)
 *   <reversed-ip>.in-addr.arpa / ip6.arpa    PTR (reverse.go)
 */
import { addressFromReverse } from './reverse-name.js';

export const SVC = 'svc';
export const POD = 'pod';

/** parse.go's recordRequest. Empty strings mean "not given" (wildcard for port/protocol). */
export interface RecordRequest {
  /** '' for apex-like names (NODATA), else 'svc' or 'pod'. */
  podOrSvc: '' | typeof SVC | typeof POD;
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
}

export type ParseResult = { ok: true; request: RecordRequest } | { ok: false };

/** The part of `name` in front of `zone` ('' when name is the zone), or undefined if outside it. */
export function trimZone(name: string, zone: string): string | undefined {
  if (name === zone) return '';
  if (name.endsWith('.' + zone)) return name.slice(0, name.length - zone.length - 1);
  return undefined;
}

export function parseRequest(name: string, zone: string): ParseResult {
  const r: RecordRequest = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' };
  const base = trimZone(name, zone);
  if (base === undefined) return { ok: false };
  // Apex queries are NODATA.
  if (base === '' || base === SVC || base === POD) return { ok: true, request: r };
  const segs = base.split('.');
  let last = segs.length - 1;
  const kind = segs[last]!;
  if (kind !== SVC && kind !== POD) return { ok: false };
  r.podOrSvc = kind;
  last--;
  if (last < 0) return { ok: true, request: r };
  r.namespace = segs[last--]!;
  if (last < 0) return { ok: true, request: r };
  r.service = segs[last--]!;
  if (last < 0) return { ok: true, request: r };
  // One label left is an endpoint, two are port and protocol; more is too long to answer.
  if (last === 0) r.endpoint = segs[0]!;
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!);
    r.port = stripUnderscore(segs[0]!);
  } else return { ok: false };
  return { ok: true, request: r };
}

function stripUnderscore(s: string): string {
  return s.startsWith('_') ? s.slice(1) : s;
}

/** `ns.dns.<zone>` (kubernetes.go isDefaultNS). */
export function isDefaultNS(name: string, zone: string): boolean {
  return name === `ns.dns.${zone}`;
}

/** `dns-version.<zone>`: exactly one label before the zone (Services(), TXT case). */
export function isDnsVersion(name: string, zone: string): boolean {
  return name === `dns-version.${zone}`;
}

/**
 * A name classified for logs, tests and callers that want one value. The answer core follows
 * CoreDNS's per-type paths instead, which consult these pieces in a type-dependent order.
 */
export type NameShape =
  | { shape: 'apex' }
  | { shape: 'dns-version' }
  | { shape: 'ns.dns' }
  | { shape: 'reverse'; ip: string }
  | { shape: 'service'; namespace: string; service: string }
  | { shape: 'endpoint'; namespace: string; service: string; endpoint: string }
  | { shape: 'srv'; namespace: string; service: string; port: string; protocol: string }
  | { shape: 'pod'; namespace: string; pod: string }
  | { shape: 'namespace'; namespace: string; podOrSvc: 'svc' | 'pod' }
  | { shape: 'invalid' };

export function classifyName(name: string, zone: string): NameShape {
  if (name === zone) return { shape: 'apex' };
  if (isDnsVersion(name, zone)) return { shape: 'dns-version' };
  if (isDefaultNS(name, zone)) return { shape: 'ns.dns' };
  const ip = addressFromReverse(name);
  if (ip !== '') return { shape: 'reverse', ip };
  const p = parseRequest(name, zone);
  if (!p.ok) return { shape: 'invalid' };
  const r = p.request;
  if (r.podOrSvc === '') return { shape: 'apex' };
  if (r.service === '') return { shape: 'namespace', namespace: r.namespace, podOrSvc: r.podOrSvc };
  if (r.podOrSvc === POD) return { shape: 'pod', namespace: r.namespace, pod: r.service };
  if (r.endpoint !== '') return { shape: 'endpoint', namespace: r.namespace, service: r.service, endpoint: r.endpoint };
  if (r.port !== '' || r.protocol !== '') {
    return { shape: 'srv', namespace: r.namespace, service: r.service, port: r.port, protocol: r.protocol };
  }
  return { shape: 'service', namespace: r.namespace, service: r.service };
}
