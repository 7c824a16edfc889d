/**
 * The pure answer core: (question, index, config) → response sections and rcode, as CoreDNS's
 * kubernetes plugin answers under the kubeadm Corefile (handler.go switch on the type, the
 * record builders of plugin/backend_lookup.go, one place deciding NXDOMAIN vs NODATA).
 *
 * - Owner names keep the question's spelling; SRV/NS targets join lower-case object names
 *   with the zone as the question spelled it; PTR targets use the configured zone.
 * - NXDOMAIN and NODATA carry the matched zone's SOA in the authority section; NXDOMAIN
 *   before the informers have synced is SERVFAIL (handler.go HasSynced).
 * - NXDOMAIN in in-addr.arpa/ip6.arpa goes to the upstream when forwarding is on (kubeadm's
 *   `fallthrough in-addr.arpa ip6.arpa`); names outside the zones are forwarded, or REFUSED.
 * - Every read of the index is recorded as a dependency so the response cache can tell
 *   exactly when this answer goes stale.
 */
import { parseIP } from './ip-address.js';
import type { RecordView } from './record-index.js';
import { Rcode, RRClass, RRType, type Question, type ResourceRecord } from './records.js';
import { IP4_ARPA, IP6_ARPA } from './reverse-name.js';
import {
  equalFold,
  hostType,
  NAME_ERROR,
  reverse,
  services,
  type LookupScope,
  type NameError,
  type PodMode,
  type Target,
} from './service-lookup.js';

export interface AnswerConfig {
  /** The cluster domain, e.g. "cluster.local". */
  clusterDomain: string;
  /** TTL of generated records (kubeadm: 30); clamped to 0–3600 like CoreDNS's `ttl`. */
  ttl: number;
  podMode: PodMode;
  /** The DNS server's own (service) address, for NS records and ns.dns.<zone>. */
  nsAddress: string;
  /** Whether an upstream is configured: out-of-zone names are forwarded rather than REFUSED. */
  forwarding: boolean;
}

export interface Reply {
  kind: 'reply';
  rcode: number;
  aa: boolean;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** Dependency keys read (see record-index.ts). */
  deps: string[];
  /** False when the reply must not be reused: before sync, or waiting on an upstream chase. */
  cacheable: boolean;
  /**
   * An ExternalName pointing outside the zone: the upstream's answer records for (name, type)
   * are appended to `answer` (completeChase). CoreDNS ignores the upstream rcode here.
   */
  chase?: { name: string; type: number };
}

export type Resolution = Reply | { kind: 'forward' };

const SOA_REFRESH = 7200;
const SOA_RETRY = 1800;
const SOA_EXPIRE = 86400;
/** CoreDNS follows at most this many CNAMEs inside the zone. */
const MAX_CNAME_CHAIN = 7;

export function answer(q: Question, view: RecordView, config: AnswerConfig): Resolution {
  const deps = new Set<string>();
  const tracked = trackReads(view, deps);
  const name = q.name.toLowerCase();
  const clusterZone = config.clusterDomain.toLowerCase().replace(/\.$/, '');
  const zone = matchZone(name, [clusterZone, IP4_ARPA, IP6_ARPA]);
  // Other classes go upstream as kubeadm's `forward` does (it enables CHAOS handling).
  if (zone === undefined || q.class !== RRClass.IN) {
    return config.forwarding ? { kind: 'forward' } : refused();
  }
  const ns = parseIP(config.nsAddress);
  const s: LookupScope = {
    view: tracked,
    zone,
    zoneSpelled: q.name.slice(q.name.length - zone.length),
    clusterZone,
    ttl: Math.max(0, Math.min(3600, Math.floor(config.ttl))),
    podMode: config.podMode,
    nsAddress: ns ? { ip: ns.text, family: ns.family } : { ip: '127.0.0.1', family: 4 },
  };

  let found: { answer: ResourceRecord[]; additional?: ResourceRecord[]; chase?: Reply['chase'] } | NameError;
  switch (q.type) {
    case RRType.A:
    case RRType.AAAA:
    {
      const addresses = addressRecords(s, q.name, q.type, []);
      found = addresses === NAME_ERROR ? addresses : { answer: addresses.records, chase: addresses.chase };
      break;
    }
    case RRType.TXT:
      found = txtRecords(s, q.name);
      break;
    case RRType.CNAME:
      found = cnameRecords(s, q.name);
      break;
    case RRType.PTR:
      found = ptrRecords(s, q.name);
      break;
    case RRType.SRV:
      found = srvRecords(s, q.name);
      break;
    case RRType.SOA:
      // SOA answers only at the apex; elsewhere NODATA, even for names that do not exist.
      found = { answer: name === zone ? [soaRecord(s)] : [] };
      break;
    case RRType.AXFR:
    case RRType.IXFR:
      return refused();
    default: {
      if (q.type === RRType.NS && name === zone) {
        found = nsRecords(s, q.name);
        break;
      }
      // Non-apex NS, ANY, MX, HINFO and the rest:
      // A fake A lookup tells NODATA (name exists) from NXDOMAIN (handler.go default).
      const fake = services(s, name, RRType.A);
      found = fake === NAME_ERROR ? NAME_ERROR : { answer: [] };
    }
  }

  const synced = view.hasSynced();
  if (found === NAME_ERROR) {
    if (zone !== clusterZone && config.forwarding) return { kind: 'forward' };
    return negative(s, synced ? Rcode.NXDOMAIN : Rcode.SERVFAIL, deps, synced);
  }
  if (found.answer.length === 0) return negative(s, Rcode.NOERROR, deps, synced);
  return {
    kind: 'reply',
    rcode: Rcode.NOERROR,
    aa: true,
    answer: found.answer,
    authority: [],
    additional: found.additional ?? [],
    deps: [...deps],
    cacheable: synced && !found.chase,
    ...(found.chase ? { chase: found.chase } : {}),
  };
}

/** Appends the upstream's answer records to a reply waiting on an ExternalName chase. */
export function completeChase(reply: Reply, upstreamAnswer: ResourceRecord[]): Reply {
  const { chase: _chase, ...rest } = reply;
  return { ...rest, answer: [...reply.answer, ...upstreamAnswer], cacheable: false };
}

function negative(s: LookupScope, rcode: number, deps: Set<string>, synced: boolean): Reply {
  const soa = soaRecord(s);
  return { kind: 'reply', rcode, aa: true, answer: [], authority: [soa], additional: [], deps: [...deps], cacheable: synced };
}

function refused(): Reply {
  return { kind: 'reply', rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [], deps: [], cacheable: true };
}

function matchZone(name: string, zones: string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if ((name === z || name.endsWith('.' + z)) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

function trackReads(view: RecordView, deps: Set<string>): RecordView {
  return {
    hasSynced: () => view.hasSynced(),
    serial: () => (deps.add('serial'), view.serial()),
    namespaceExists: (ns) => (deps.add(`ns:${ns}`), view.namespaceExists(ns)),
    service: (ns, n) => (deps.add(`svc:${ns}/${n}`), view.service(ns, n)),
    servicesByClusterIP: (ip) => (deps.add(`ip:${ip}`), view.servicesByClusterIP(ip)),
    endpointsByIP: (ip) => (deps.add(`ip:${ip}`), view.endpointsByIP(ip)),
    podsByIP: (ip) => (deps.add(`podip:${ip}`), view.podsByIP(ip)),
  };
}

function rr(name: string, type: number, ttl: number, data: ResourceRecord['data']): ResourceRecord {
  return { name, type, class: RRClass.IN, ttl, data };
}

function addressRR(owner: string, t: Target): ResourceRecord {
  const ip = parseIP(t.host)!;
  return rr(owner, ip.family === 4 ? RRType.A : RRType.AAAA, t.ttl, { kind: 'address', bytes: ip.bytes });
}

/** backend_lookup.go A()/AAAA(), with the ExternalName CNAME chase. */
function addressRecords(
  s: LookupScope,
  qname: string,
  qtype: number,
  previous: ResourceRecord[],
): { records: ResourceRecord[]; chase?: Reply['chase'] } | NameError {
  const name = qname.toLowerCase();
  const found = services(s, name, qtype);
  if (found === NAME_ERROR) return found;
  const records: ResourceRecord[] = [];
  let chase: Reply['chase'];
  const seen = new Set<string>();
  for (const t of found) {
    const what = hostType(t);
    if (what === RRType.CNAME) {
      const target = t.host.toLowerCase();
      // x CNAME x (or a name below x) is a direct loop.
      if (target === name || target.endsWith('.' + name)) continue;
      if (previous.length > MAX_CNAME_CHAIN) continue;
      const cname = rr(qname, RRType.CNAME, t.ttl, { kind: 'name', target: t.host });
      const isDuplicate = previous.some(
        (p) => p.type === RRType.CNAME && p.data.kind === 'name' && equalFold(p.data.target, t.host),
      );
      if (isDuplicate) continue;
      if (target === s.zone || target.endsWith('.' + s.zone)) {
        const next = addressRecords(s, t.host, qtype, [...previous, cname]);
        // A missing in-zone target drops the CNAME too (coredns/coredns#6088).
        if (next !== NAME_ERROR && next.records.length > 0) {
          records.push(cname, ...next.records);
          if (next.chase) chase = next.chase;
        }
        continue;
      }
      records.push(cname);
      chase = { name: t.host, type: qtype };
      continue;
    }
    if (what === qtype && !seen.has(t.host)) {
      seen.add(t.host);
      records.push(addressRR(qname, t));
    }
  }
  return chase ? { records, chase } : { records };
}

function txtRecords(s: LookupScope, qname: string): { answer: ResourceRecord[] } | NameError {
  const found = services(s, qname.toLowerCase(), RRType.TXT);
  if (found === NAME_ERROR) return found;
  const seen = new Set<string>();
  const answer: ResourceRecord[] = [];
  for (const t of found) {
    if (t.text === undefined || seen.has(t.text)) continue;
    seen.add(t.text);
    answer.push(rr(qname, RRType.TXT, t.ttl, { kind: 'txt', texts: [t.text] }));
  }
  return { answer };
}

function cnameRecords(s: LookupScope, qname: string): { answer: ResourceRecord[] } | NameError {
  const found = services(s, qname.toLowerCase(), RRType.CNAME);
  if (found === NAME_ERROR) return found;
  const first = found[0];
  if (!first || parseIP(first.host)) return { answer: [] };
  return { answer: [rr(qname, RRType.CNAME, first.ttl, { kind: 'name', target: first.host })] };
}

function ptrRecords(s: LookupScope, qname: string): { answer: ResourceRecord[] } | NameError {
  const found = reverse(s, qname.toLowerCase());
  if (found === NAME_ERROR) return found;
  const seen = new Set<string>();
  const answer: ResourceRecord[] = [];
  for (const t of found) {
    if (parseIP(t.host) || seen.has(t.host)) continue;
    seen.add(t.host);
    answer.push(rr(qname, RRType.PTR, t.ttl, { kind: 'name', target: t.host }));
  }
  return { answer };
}

/**
 * backend_lookup.go SRV(): priority 0, weight floor(100/N) (at least 1) over all N candidate
 * entries, then identical (target, port) pairs collapsed; glue A/AAAA per (target, address).
 */
function srvRecords(s: LookupScope, qname: string): { answer: ResourceRecord[]; additional: ResourceRecord[] } | NameError {
  const found = services(s, qname.toLowerCase(), RRType.SRV);
  if (found === NAME_ERROR) return found;
  const total = found.length * 100;
  const answer: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const t of found) {
    // Port -1: a service or slice without ports; it answers A but has no SRV.
    if (t.port === -1) continue;
    const what = hostType(t);
    if (what !== RRType.A && what !== RRType.AAAA) continue;
    // Same float steps as Go: (100 / total) * 100, floored.
    let weight = Math.floor((100 / total) * 100);
    if (weight === 0) weight = 1;
    const srvKey = `${t.domain}\u0000\u0000${t.port}`;
    if (!seen.has(srvKey)) {
      seen.add(srvKey);
      answer.push(rr(qname, RRType.SRV, t.ttl, { kind: 'srv', priority: 0, weight, port: t.port, target: t.domain }));
    }
    const glueKey = `${t.domain}\u0000${t.host}\u00000`;
    if (!seen.has(glueKey)) {
      seen.add(glueKey);
      additional.push(addressRR(t.domain, t));
    }
  }
  return { answer, additional };
}

/** backend_lookup.go NS(): NS per distinct server name at the apex, glue per address. */
function nsRecords(s: LookupScope, qname: string): { answer: ResourceRecord[]; additional: ResourceRecord[] } | NameError {
  const found = services(s, qname.toLowerCase(), RRType.NS);
  if (found === NAME_ERROR) return found;
  const answer: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const t of found) {
    additional.push(addressRR(t.domain, t));
    if (seen.has(t.domain)) continue;
    seen.add(t.domain);
    answer.push(rr(qname, RRType.NS, t.ttl, { kind: 'name', target: t.domain }));
  }
  return { answer, additional };
}

/** backend_lookup.go SOA(): owner is the zone as the question spelled it. */
function soaRecord(s: LookupScope): ResourceRecord {
  return rr(s.zoneSpelled, RRType.SOA, Math.min(s.ttl, 300), {
    kind: 'soa',
    mname: `ns.dns.${s.zoneSpelled}`,
    rname: `hostmaster.${s.zoneSpelled}`,
    serial: s.view.serial(),
    refresh: SOA_REFRESH,
    retry: SOA_RETRY,
    expire: SOA_EXPIRE,
    minimum: s.ttl,
  });
}
