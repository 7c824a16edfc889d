/**
 * Name → targets, as CoreDNS's kubernetes.go (Services, Records, findServices, findPods),
 * reverse.go and ns.go compute them. A target is CoreDNS's msg.Service: an address, a
 * domain (ExternalName) or a text, with a port and the name SRV/NS records point at.
 * The record builders in answer.ts turn targets into resource records per query type.
 */
import { parseIP } from './ip-address.js';
import { isDefaultNS, isDnsVersion, parseRequest, POD, type RecordRequest } from './parse-name.js';
import type { RecordView } from './record-index.js';
import { RRType } from './records.js';
import { addressFromReverse, isReverse } from './reverse-name.js';
import type { AddressRecord } from './service-record.js';

/** errNoItems / errNsNotExposed / errInvalidRequest: all answered NXDOMAIN. */
export const NAME_ERROR = Symbol('NXDOMAIN');
export type NameError = typeof NAME_ERROR;

/** The TXT answer at dns-version.<zone> (kubernetes/dns specification, schema 1.1.0). */
export const DNS_SCHEMA_VERSION = '1.1.0';
export const DNS_VERSION_TTL = 28800;

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface Target {
  /** IP text for address targets, a domain for CNAME targets, '' for TXT. */
  host: string;
  /** Set when host is an address. */
  family?: 4 | 6;
  /** Set for TXT targets. */
  text?: string;
  port: number;
  ttl: number;
  /** The name SRV and NS records point at (CoreDNS's msg.Domain(Key)). */
  domain: string;
}

export interface LookupScope {
  view: RecordView;
  /** The zone the question fell in, lower case. */
  zone: string;
  /** The same zone as the question spelled it (CoreDNS keeps the client's case). */
  zoneSpelled: string;
  /** The configured cluster domain, lower case (PTR targets use it). */
  clusterZone: string;
  ttl: number;
  podMode: PodMode;
  /** The DNS server's own address: its ClusterIP in a cluster (NS records, ns.dns). */
  nsAddress: AddressRecord;
}

export function hostType(t: Target): number {
  if (t.family === 4) return RRType.A;
  if (t.family === 6) return RRType.AAAA;
  return t.text !== undefined ? RRType.TXT : RRType.CNAME;
}

/** kubernetes.go Services(): what a question of type qtype finds at a lower-case name. */
export function services(s: LookupScope, name: string, qtype: number): Target[] | NameError {
  if (qtype === RRType.TXT) {
    if (isDnsVersion(name, s.zone)) {
      return [{ host: '', text: DNS_SCHEMA_VERSION, port: 0, ttl: DNS_VERSION_TTL, domain: name }];
    }
    // An existing name of another type is NODATA; everything else, apex included, NXDOMAIN.
    const other = records(s, name);
    return other !== NAME_ERROR && other.length > 0 ? [] : NAME_ERROR;
  }
  if (qtype === RRType.NS) return nsAddrs(s).map((ns) => ({ ...ns.target, domain: ns.name }));
  if (isDefaultNS(name, s.zone)) {
    const want = qtype === RRType.A ? 4 : qtype === RRType.AAAA ? 6 : 0;
    return nsAddrs(s)
      .filter((ns) => ns.target.family === want)
      .map((ns) => ({ ...ns.target, domain: name }));
  }
  const found = records(s, name);
  // SRV for ExternalName services is not implemented in CoreDNS: such targets are dropped.
  if (qtype !== RRType.SRV || found === NAME_ERROR) return found;
  return found.filter((t) => hostType(t) !== RRType.CNAME);
}

/** kubernetes.go Records(). */
export function records(s: LookupScope, name: string): Target[] | NameError {
  const parsed = parseRequest(name, s.zone);
  if (!parsed.ok) return NAME_ERROR;
  const r = parsed.request;
  if (r.podOrSvc === '') return [];
  if (isReverse(name) > 0) return NAME_ERROR;
  if (!s.view.namespaceExists(r.namespace)) return NAME_ERROR;
  return r.podOrSvc === POD ? findPods(s, r) : findServices(s, r);
}

function findServices(s: LookupScope, r: RecordRequest): Target[] | NameError {
  if (r.service === '') return [];
  const svc = s.view.service(r.namespace, r.service);
  if (!svc) return NAME_ERROR;
  const serviceDomain = `${svc.name}.${svc.namespace}.svc.${s.zoneSpelled}`;

  if (svc.kind === 'ExternalName') {
    // External services have no endpoints or ports: longer names under them do not exist.
    if (r.endpoint !== '' || r.port !== '' || r.protocol !== '') return NAME_ERROR;
    const host = svc.externalName.replace(/\.$/, '');
    // An IP literal is not a valid CNAME target: the service answers nothing (NXDOMAIN).
    if (host === '' || parseIP(host)) return NAME_ERROR;
    return [{ host, port: 0, ttl: s.ttl, domain: serviceDomain }];
  }

  const out: Target[] = [];
  let found = false;
  if (svc.kind === 'Headless' || r.endpoint !== '') {
    for (const ep of svc.endpoints) {
      if (r.endpoint !== '' && !equalFold(r.endpoint, ep.hostname)) continue;
      for (const p of ep.ports) {
        if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue;
        found = true;
        out.push({ host: ep.ip, family: ep.family, port: p.port, ttl: s.ttl, domain: `${ep.hostname}.${serviceDomain}` });
      }
    }
    return found ? out : NAME_ERROR;
  }

  for (const p of svc.ports) {
    if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue;
    found = true;
    for (const ip of svc.clusterIPs) {
      out.push({ host: ip.ip, family: ip.family, port: p.port, ttl: s.ttl, domain: serviceDomain });
    }
  }
  return found ? out : NAME_ERROR;
}

function findPods(s: LookupScope, r: RecordRequest): Target[] | NameError {
  if (s.podMode === 'disabled') return NAME_ERROR;
  const podname = r.service;
  if (podname === '') return [];
  // Exactly three dashes and no '--' is IPv4; anything else is read as IPv6.
  const dashes = podname.split('-').length - 1;
  const text = dashes === 3 && !podname.includes('--') ? podname.replaceAll('-', '.') : podname.replaceAll('-', ':');
  const ip = parseIP(text);
  if (!ip) return NAME_ERROR;
  const domain = `${podname}.${r.namespace}.pod.${s.zoneSpelled}`;
  const target: Target = { host: ip.text, family: ip.family, port: 0, ttl: s.ttl, domain };
  if (s.podMode === 'insecure') return [target];
  const pods = s.view.podsByIP(ip.text).filter((p) => equalFold(p.namespace, r.namespace));
  return pods.length > 0 ? pods.map(() => target) : NAME_ERROR;
}

/**
 * ns.go nsAddrs(): the Service(s) whose ClusterIP is the DNS server's address, named
 * `<svc>.<ns>.svc.<zone>`; without one, `ns.dns.<zone>` and the address itself. In the reverse
 * zones the names use the cluster zone (CoreDNS would glue the reverse zone on: a name that
 * cannot resolve).
 */
export function nsAddrs(s: LookupScope): Array<{ name: string; target: Target }> {
  const zone = s.zone === s.clusterZone ? s.zoneSpelled : s.clusterZone;
  const out: Array<{ name: string; target: Target }> = [];
  for (const svc of s.view.servicesByClusterIP(s.nsAddress.ip)) {
    const name = `${svc.name}.${svc.namespace}.svc.${zone}`;
    for (const ip of svc.clusterIPs) {
      out.push({ name, target: { host: ip.ip, family: ip.family, port: 0, ttl: s.ttl, domain: name } });
    }
  }
  if (out.length > 0) return out;
  const name = `ns.dns.${zone}`;
  return [{ name, target: { host: s.nsAddress.ip, family: s.nsAddress.family, port: 0, ttl: s.ttl, domain: name } }];
}

/**
 * reverse.go Reverse(): PTR targets for a reverse name. Services win: the first ClusterIP
 * service holding the address is the one answer; otherwise one target per ready endpoint
 * address, named `<endpoint>.<svc>.<ns>.svc.<cluster zone>`.
 */
export function reverse(s: LookupScope, name: string): Target[] | NameError {
  const ip = addressFromReverse(name);
  if (ip === '') {
    const r = records(s, name);
    return r === NAME_ERROR ? r : [];
  }
  const svcs = s.view.servicesByClusterIP(ip);
  if (svcs.length > 0) {
    const svc = svcs[0]!;
    return [{ host: `${svc.name}.${svc.namespace}.svc.${s.clusterZone}`, port: 0, ttl: s.ttl, domain: '' }];
  }
  const eps = s.view.endpointsByIP(ip);
  if (eps.length === 0) return NAME_ERROR;
  return eps.map((e) => ({
    host: `${e.hostname}.${e.service.name}.${e.service.namespace}.svc.${s.clusterZone}`,
    port: 0,
    ttl: s.ttl,
    domain: '',
  }));
}

export function equalFold(a: string, b: string): boolean {
  return a.length === b.length && a.toLowerCase() === b.toLowerCase();
}

function matchPortAndProtocol(aPort: string, bPort: string, aProto: string, bProto: string): boolean {
  return (aPort === '' || equalFold(aPort, bPort)) && (aProto === '' || equalFold(aProto, bProto));
}
