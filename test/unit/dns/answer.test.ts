import { describe, expect, it } from 'vitest';
import { answer, completeChase, type AnswerConfig, type Reply } from '../../../dns/answer.js';
import type { RecordView } from '../../../dns/record-index.js';
import { formatRecord, rcodeName, RRClass, RRType, typeFromName } from '../../../dns/records.js';
import { fixtureCluster, SERIAL } from './fixtures.js';

const CONFIG: AnswerConfig = { clusterDomain: 'cluster.local', ttl: 30, podMode: 'insecure', nsAddress: '10.96.0.10', forwarding: false };
const { index } = fixtureCluster();

interface Shown {
  rcode: string;
  aa: boolean;
  answer: string[];
  authority: string[];
  additional: string[];
}

function ask(name: string, type = 'A', config: Partial<AnswerConfig> = {}, view: RecordView = index): Shown | 'forward' {
  const r = answer({ name, type: typeFromName(type)!, class: RRClass.IN }, view, { ...CONFIG, ...config });
  if (r.kind === 'forward') return 'forward';
  return show(r);
}

function show(r: Reply): Shown {
  return {
    rcode: rcodeName(r.rcode),
    aa: r.aa,
    answer: r.answer.map(formatRecord),
    authority: r.authority.map(formatRecord),
    additional: r.additional.map(formatRecord),
  };
}

const SOA = `cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. ${SERIAL} 7200 1800 86400 30`;
const REV_SOA = `in-addr.arpa. 30 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. ${SERIAL} 7200 1800 86400 30`;
const S = '.svc.cluster.local.';

type Row = [what: string, name: string, type: string, rcode: string, answer: string[], additional?: string[]];

// One row per record kind and per NXDOMAIN/NODATA rule of the notes (§2, §4).
const rows: Row[] = [
  // §2.1 ClusterIP A/AAAA
  ['ClusterIP A', 'kubernetes.default.svc.cluster.local', 'A', 'NOERROR', [`kubernetes.default${S} 30 IN A 10.96.0.1`]],
  ['AAAA on IPv4-only service is NODATA', 'kubernetes.default.svc.cluster.local', 'AAAA', 'NOERROR', []],
  ['dual-stack A', 'dual.prod.svc.cluster.local', 'A', 'NOERROR', [`dual.prod${S} 30 IN A 10.96.5.6`]],
  ['dual-stack AAAA', 'dual.prod.svc.cluster.local', 'AAAA', 'NOERROR', [`dual.prod${S} 30 IN AAAA fd00::6`]],
  ['unknown service', 'nope.default.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['unknown namespace', 'web.nons.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['namespace of a service applied without a Namespace object', 'lonely.applied-only.svc.cluster.local', 'A', 'NOERROR', [
    `lonely.applied-only${S} 30 IN A 10.96.8.1`,
  ]],
  // §2.2 SRV on ClusterIP
  ['SRV named port', '_http._tcp.web.prod.svc.cluster.local', 'SRV', 'NOERROR', [`_http._tcp.web.prod${S} 30 IN SRV 0 100 80 web.prod${S}`], [
    `web.prod${S} 30 IN A 10.96.5.5`,
  ]],
  ['SRV wrong protocol', '_http._udp.web.prod.svc.cluster.local', 'SRV', 'NXDOMAIN', []],
  ['SRV unknown port', '_nope._tcp.web.prod.svc.cluster.local', 'SRV', 'NXDOMAIN', []],
  ['SRV port matches case-insensitively', '_HTTP._TCP.web.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `_HTTP._TCP.web.prod${S} 30 IN SRV 0 100 80 web.prod${S}`,
  ], [`web.prod${S} 30 IN A 10.96.5.5`]],
  ['SRV on the bare service name: one per port', 'web.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `web.prod${S} 30 IN SRV 0 50 80 web.prod${S}`,
    `web.prod${S} 30 IN SRV 0 50 443 web.prod${S}`,
  ], [`web.prod${S} 30 IN A 10.96.5.5`]],
  ['SRV on the bare name includes unnamed ports', 'unnamed.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `unnamed.prod${S} 30 IN SRV 0 100 8080 unnamed.prod${S}`,
  ], [`unnamed.prod${S} 30 IN A 10.96.5.7`]],
  ['SRV dual-stack: weight 50, one record, two glue', '_http._tcp.dual.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `_http._tcp.dual.prod${S} 30 IN SRV 0 50 80 dual.prod${S}`,
  ], [`dual.prod${S} 30 IN A 10.96.5.6`, `dual.prod${S} 30 IN AAAA fd00::6`]],
  ['A on _port._proto name returns the ClusterIP', '_http._tcp.web.prod.svc.cluster.local', 'A', 'NOERROR', [
    `_http._tcp.web.prod${S} 30 IN A 10.96.5.5`,
  ]],
  ['labels without underscores read as port/proto', 'http.tcp.web.prod.svc.cluster.local', 'A', 'NOERROR', [
    `http.tcp.web.prod${S} 30 IN A 10.96.5.5`,
  ]],
  ['three labels in front of the service', 'a.b.c.web.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  // §2.4 headless A
  ['headless A: ready endpoints only', 'db.prod.svc.cluster.local', 'A', 'NOERROR', [
    `db.prod${S} 30 IN A 10.244.1.7`,
    `db.prod${S} 30 IN A 10.244.2.8`,
  ]],
  ['headless AAAA with IPv4 endpoints is NODATA', 'db.prod.svc.cluster.local', 'AAAA', 'NOERROR', []],
  ['headless without slices is NXDOMAIN', 'empty-headless.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['headless with only not-ready endpoints is NXDOMAIN', 'unready.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['publishNotReadyAddresses answers not-ready endpoints', 'pub.prod.svc.cluster.local', 'A', 'NOERROR', [`pub.prod${S} 30 IN A 10.244.4.1`]],
  ['portless headless answers A', 'portless.prod.svc.cluster.local', 'A', 'NOERROR', [`portless.prod${S} 30 IN A 10.244.5.1`]],
  ['portless headless SRV is NODATA', 'portless.prod.svc.cluster.local', 'SRV', 'NOERROR', []],
  ['IPv6 headless AAAA', 'v6.prod.svc.cluster.local', 'AAAA', 'NOERROR', [`v6.prod${S} 30 IN AAAA fd00:10:244::5`]],
  ['IPv6 headless A is NODATA', 'v6.prod.svc.cluster.local', 'A', 'NOERROR', []],
  // §2.5 endpoint names
  ['hostname record', 'db-0.db.prod.svc.cluster.local', 'A', 'NOERROR', [`db-0.db.prod${S} 30 IN A 10.244.1.7`]],
  ['hostname of a not-ready endpoint', 'db-2.db.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['dashed IP under a ClusterIP service', '10-244-1-5.web.prod.svc.cluster.local', 'A', 'NOERROR', [
    `10-244-1-5.web.prod${S} 30 IN A 10.244.1.5`,
  ]],
  ['dashed IPv6 endpoint name', 'fd00-10-244--5.v6.prod.svc.cluster.local', 'AAAA', 'NOERROR', [
    `fd00-10-244--5.v6.prod${S} 30 IN AAAA fd00:10:244::5`,
  ]],
  ['shared hostname answers every endpoint', 'same.shared.prod.svc.cluster.local', 'A', 'NOERROR', [
    `same.shared.prod${S} 30 IN A 10.244.8.1`,
    `same.shared.prod${S} 30 IN A 10.244.8.2`,
  ]],
  ['SRV on an endpoint name', 'db-1.db.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `db-1.db.prod${S} 30 IN SRV 0 100 5432 db-1.db.prod${S}`,
  ], [`db-1.db.prod${S} 30 IN A 10.244.2.8`]],
  // §2.6 headless SRV
  ['headless SRV per endpoint', '_postgres._tcp.db.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `_postgres._tcp.db.prod${S} 30 IN SRV 0 50 5432 db-0.db.prod${S}`,
    `_postgres._tcp.db.prod${S} 30 IN SRV 0 50 5432 db-1.db.prod${S}`,
  ], [`db-0.db.prod${S} 30 IN A 10.244.1.7`, `db-1.db.prod${S} 30 IN A 10.244.2.8`]],
  ['three endpoints weigh 33', '_http._tcp.three.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `_http._tcp.three.prod${S} 30 IN SRV 0 33 80 10-244-7-1.three.prod${S}`,
    `_http._tcp.three.prod${S} 30 IN SRV 0 33 80 10-244-7-2.three.prod${S}`,
    `_http._tcp.three.prod${S} 30 IN SRV 0 33 80 10-244-7-3.three.prod${S}`,
  ], [
    `10-244-7-1.three.prod${S} 30 IN A 10.244.7.1`,
    `10-244-7-2.three.prod${S} 30 IN A 10.244.7.2`,
    `10-244-7-3.three.prod${S} 30 IN A 10.244.7.3`,
  ]],
  ['six entries weigh 16, duplicates collapse to five', '_http._tcp.six.prod.svc.cluster.local', 'SRV', 'NOERROR', [
    `_http._tcp.six.prod${S} 30 IN SRV 0 16 80 10-244-9-1.six.prod${S}`,
    `_http._tcp.six.prod${S} 30 IN SRV 0 16 80 10-244-9-2.six.prod${S}`,
    `_http._tcp.six.prod${S} 30 IN SRV 0 16 80 10-244-9-3.six.prod${S}`,
    `_http._tcp.six.prod${S} 30 IN SRV 0 16 80 10-244-9-4.six.prod${S}`,
    `_http._tcp.six.prod${S} 30 IN SRV 0 16 80 10-244-9-5.six.prod${S}`,
  ], [
    `10-244-9-1.six.prod${S} 30 IN A 10.244.9.1`,
    `10-244-9-2.six.prod${S} 30 IN A 10.244.9.2`,
    `10-244-9-3.six.prod${S} 30 IN A 10.244.9.3`,
    `10-244-9-4.six.prod${S} 30 IN A 10.244.9.4`,
    `10-244-9-5.six.prod${S} 30 IN A 10.244.9.5`,
  ]],
  // §2.7 ExternalName
  ['ExternalName CNAME', 'ext.prod.svc.cluster.local', 'CNAME', 'NOERROR', [`ext.prod${S} 30 IN CNAME foo.example.com.`]],
  ['ExternalName in-zone target is chased', 'ext-in.prod.svc.cluster.local', 'A', 'NOERROR', [
    `ext-in.prod${S} 30 IN CNAME web.prod${S}`,
    `web.prod${S} 30 IN A 10.96.5.5`,
  ]],
  ['ExternalName to a missing in-zone name: NODATA, no CNAME', 'ext-missing.prod.svc.cluster.local', 'A', 'NOERROR', []],
  ['ExternalName with an IP literal', 'ext-ip.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['ExternalName TXT is NODATA', 'ext.prod.svc.cluster.local', 'TXT', 'NOERROR', []],
  ['ExternalName SRV is NODATA', 'ext.prod.svc.cluster.local', 'SRV', 'NOERROR', []],
  ['name below an ExternalName', 'x.ext.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['SRV-style name below an ExternalName', '_p._tcp.ext.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['CNAME query on a ClusterIP service is NODATA', 'web.prod.svc.cluster.local', 'CNAME', 'NOERROR', []],
  // §1 dns-version
  ['dns-version TXT', 'dns-version.cluster.local', 'TXT', 'NOERROR', ['dns-version.cluster.local. 28800 IN TXT "1.1.0"']],
  ['dns-version A', 'dns-version.cluster.local', 'A', 'NXDOMAIN', []],
  ['TXT on a service is NODATA', 'web.prod.svc.cluster.local', 'TXT', 'NOERROR', []],
  ['TXT on a missing name', 'nope.prod.svc.cluster.local', 'TXT', 'NXDOMAIN', []],
  // §2.8 apex
  ['SOA at the apex', 'cluster.local', 'SOA', 'NOERROR', [SOA]],
  ['SOA on a service name is NODATA', 'web.prod.svc.cluster.local', 'SOA', 'NOERROR', []],
  ['SOA on a missing name is NODATA too', 'nope.prod.svc.cluster.local', 'SOA', 'NOERROR', []],
  ['NS at the apex names the kube-dns service', 'cluster.local', 'NS', 'NOERROR', [
    `cluster.local. 30 IN NS kube-dns.kube-system${S}`,
  ], [`kube-dns.kube-system${S} 30 IN A 10.96.0.10`]],
  ['ns.dns A', 'ns.dns.cluster.local', 'A', 'NOERROR', ['ns.dns.cluster.local. 30 IN A 10.96.0.10']],
  ['ns.dns AAAA is NODATA', 'ns.dns.cluster.local', 'AAAA', 'NOERROR', []],
  ['apex A is NODATA', 'cluster.local', 'A', 'NOERROR', []],
  ['svc.<zone> is NODATA', 'svc.cluster.local', 'A', 'NOERROR', []],
  ['pod.<zone> is NODATA', 'pod.cluster.local', 'A', 'NOERROR', []],
  ['existing namespace is NODATA', 'prod.svc.cluster.local', 'A', 'NOERROR', []],
  ['namespace without services is NODATA', 'empty-ns.svc.cluster.local', 'A', 'NOERROR', []],
  ['missing namespace is NXDOMAIN', 'nons.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['not svc/pod', 'foo.cluster.local', 'A', 'NXDOMAIN', []],
  ['short form inside the zone', 'kubernetes.default.cluster.local', 'A', 'NXDOMAIN', []],
  ['wildcards are gone', '*.prod.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['non-apex NS behaves like A: exists', 'web.prod.svc.cluster.local', 'NS', 'NOERROR', []],
  ['MX on an existing name is NODATA', 'web.prod.svc.cluster.local', 'MX', 'NOERROR', []],
  ['MX on a missing name is NXDOMAIN', 'nope.prod.svc.cluster.local', 'MX', 'NXDOMAIN', []],
  ['ANY on an existing name is NODATA', 'web.prod.svc.cluster.local', 'ANY', 'NOERROR', []],
  ['HINFO on a missing namespace', 'x.nons.svc.cluster.local', 'HINFO', 'NXDOMAIN', []],
  // §2.3 PTR
  ['PTR of a ClusterIP', '10.0.96.10.in-addr.arpa', 'PTR', 'NOERROR', [`10.0.96.10.in-addr.arpa. 30 IN PTR kube-dns.kube-system${S}`]],
  ['PTR of a headless endpoint with hostname', '7.1.244.10.in-addr.arpa', 'PTR', 'NOERROR', [`7.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.prod${S}`]],
  ['PTR of a ClusterIP service endpoint', '5.1.244.10.in-addr.arpa', 'PTR', 'NOERROR', [
    `5.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-5.web.prod${S}`,
  ]],
  ['PTR of an IPv6 ClusterIP', '6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', 'PTR', 'NOERROR', [
    `6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 30 IN PTR dual.prod${S}`,
  ]],
  ['PTR of a publishNotReady endpoint', '1.4.244.10.in-addr.arpa', 'PTR', 'NOERROR', [`1.4.244.10.in-addr.arpa. 30 IN PTR 10-244-4-1.pub.prod${S}`]],
  ['PTR on a forward name is NODATA', 'web.prod.svc.cluster.local', 'PTR', 'NOERROR', []],
  // §2.9 pods insecure
  ['pod A', '10-244-1-5.default.pod.cluster.local', 'A', 'NOERROR', ['10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5']],
  ['pod AAAA on an IPv4 name is NODATA', '10-244-1-5.default.pod.cluster.local', 'AAAA', 'NOERROR', []],
  ['pod with an extra leading label', 'x.10-244-1-5.default.pod.cluster.local', 'A', 'NOERROR', [
    'x.10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5',
  ]],
  ['pod IPv6 name', 'fd00--1.default.pod.cluster.local', 'AAAA', 'NOERROR', ['fd00--1.default.pod.cluster.local. 30 IN AAAA fd00::1']],
  ['pod name that is not an IP', '10-244-1.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['pod name out of range', '10-244-1-256.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['pod in a missing namespace', '10-244-1-5.nons.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['pod namespace exists through its pods', '10-244-10-1.pods-only.pod.cluster.local', 'A', 'NOERROR', [
    '10-244-10-1.pods-only.pod.cluster.local. 30 IN A 10.244.10.1',
  ]],
  ['<ns>.pod.<zone> is NODATA', 'default.pod.cluster.local', 'A', 'NOERROR', []],
];

describe('answer: one row per record kind (dns-notes §2, §4)', () => {
  it.each(rows)('%s: %s %s', (_what, name, type, rcode, expected, additional) => {
    const got = ask(name, type);
    expect(got).not.toBe('forward');
    const r = got as Shown;
    expect(r.rcode).toBe(rcode);
    expect(r.aa).toBe(true);
    expect(r.answer).toEqual(expected);
    if (additional) expect(r.additional).toEqual(additional);
    if (expected.length === 0) {
      // NXDOMAIN and NODATA both carry the zone's SOA.
      expect(r.authority).toEqual([name.endsWith('in-addr.arpa') ? REV_SOA : SOA]);
    } else {
      expect(r.authority).toEqual([]);
    }
  });
});

describe('answer: reverse zone misses', () => {
  it('unknown IP is NXDOMAIN with the in-addr.arpa SOA when forwarding is off', () => {
    expect(ask('9.9.9.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'NXDOMAIN', authority: [REV_SOA] });
  });
  it('a not-ready endpoint has no PTR', () => {
    expect(ask('9.3.244.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'NXDOMAIN' });
  });
  it('partial reverse names are NXDOMAIN', () => {
    expect(ask('96.10.in-addr.arpa', 'PTR')).toMatchObject({ rcode: 'NXDOMAIN' });
  });
  it('falls through to the upstream when forwarding is on (kubeadm fallthrough)', () => {
    expect(ask('9.9.9.10.in-addr.arpa', 'PTR', { forwarding: true })).toBe('forward');
    // …but cluster.local misses never do.
    expect(ask('nope.prod.svc.cluster.local', 'A', { forwarding: true })).toMatchObject({ rcode: 'NXDOMAIN' });
  });
  it('SOA of in-addr.arpa at its apex', () => {
    expect(ask('in-addr.arpa', 'SOA')).toMatchObject({ rcode: 'NOERROR', answer: [REV_SOA] });
  });
});

describe('answer: case (dns-notes §5)', () => {
  it('keeps the question spelling in owners and the SOA zone', () => {
    expect(ask('KuBeRnEtEs.DeFaUlT.SvC.cLuStEr.LoCaL', 'A')).toMatchObject({
      answer: ['KuBeRnEtEs.DeFaUlT.SvC.cLuStEr.LoCaL. 30 IN A 10.96.0.1'],
    });
    expect(ask('NoPe.DeFaUlT.SvC.cLuStEr.LoCaL', 'A')).toMatchObject({
      rcode: 'NXDOMAIN',
      authority: [`cLuStEr.LoCaL. 30 IN SOA ns.dns.cLuStEr.LoCaL. hostmaster.cLuStEr.LoCaL. ${SERIAL} 7200 1800 86400 30`],
    });
  });
  it('SRV targets join lower-case object names with the client zone spelling', () => {
    expect(ask('_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL', 'SRV')).toMatchObject({
      answer: ['_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL. 30 IN SRV 0 100 80 svc1.testns.svc.cLuStEr.LoCaL.'],
      additional: ['svc1.testns.svc.cLuStEr.LoCaL. 30 IN A 10.96.7.1'],
    });
  });
  it('PTR targets use the configured zone', () => {
    expect(ask('10.0.96.10.IN-ADDR.ARPA', 'PTR')).toMatchObject({ answer: [`10.0.96.10.IN-ADDR.ARPA. 30 IN PTR kube-dns.kube-system${S}`] });
  });
});

describe('answer: configuration and protocol edges', () => {
  it('TTL comes from config; dns-version keeps 28800; SOA TTL is capped at 300', () => {
    expect(ask('kubernetes.default.svc.cluster.local', 'A', { ttl: 5 })).toMatchObject({
      answer: [`kubernetes.default${S} 5 IN A 10.96.0.1`],
    });
    expect(ask('dns-version.cluster.local', 'TXT', { ttl: 5 })).toMatchObject({ answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] });
    expect(ask('cluster.local', 'SOA', { ttl: 3600 })).toMatchObject({
      answer: [`cluster.local. 300 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. ${SERIAL} 7200 1800 86400 3600`],
    });
  });
  it('pods disabled: pod names are NXDOMAIN', () => {
    expect(ask('10-244-1-5.default.pod.cluster.local', 'A', { podMode: 'disabled' })).toMatchObject({ rcode: 'NXDOMAIN' });
  });
  it('pods verified: only IPs of pods in that namespace', () => {
    expect(ask('10-244-10-1.pods-only.pod.cluster.local', 'A', { podMode: 'verified' })).toMatchObject({ rcode: 'NOERROR' });
    expect(ask('10-244-10-2.pods-only.pod.cluster.local', 'A', { podMode: 'verified' })).toMatchObject({ rcode: 'NXDOMAIN' });
  });
  it('AXFR and IXFR are REFUSED without aa', () => {
    expect(ask('cluster.local', 'AXFR')).toMatchObject({ rcode: 'REFUSED', aa: false, authority: [] });
    expect(ask('cluster.local', 'IXFR')).toMatchObject({ rcode: 'REFUSED', aa: false });
  });
  it('names outside the zones are forwarded, or REFUSED without an upstream', () => {
    expect(ask('example.com', 'A', { forwarding: true })).toBe('forward');
    expect(ask('kubernetes.default', 'A', { forwarding: true })).toBe('forward');
    expect(ask('example.com', 'A')).toMatchObject({ rcode: 'REFUSED', aa: false });
  });
  it('NS glue falls back to ns.dns and the server address without a kube-dns service', () => {
    const { index: bare } = fixtureCluster([]);
    expect(ask('cluster.local', 'NS', { nsAddress: '127.96.0.10' }, bare)).toMatchObject({
      answer: ['cluster.local. 30 IN NS ns.dns.cluster.local.'],
      additional: ['ns.dns.cluster.local. 30 IN A 127.96.0.10'],
    });
  });
  it('ExternalName to an outside name asks for a chase and completes with upstream records', () => {
    const r = answer({ name: 'ext.prod.svc.cluster.local', type: RRType.A, class: RRClass.IN }, index, CONFIG);
    expect(r.kind).toBe('reply');
    const reply = r as Reply;
    expect(reply.chase).toEqual({ name: 'foo.example.com', type: RRType.A });
    expect(reply.cacheable).toBe(false);
    const done = completeChase(reply, [
      { name: 'foo.example.com', type: RRType.A, class: RRClass.IN, ttl: 60, data: { kind: 'address', bytes: new Uint8Array([192, 0, 2, 1]) } },
    ]);
    expect(show(done).answer).toEqual([`ext.prod${S} 30 IN CNAME foo.example.com.`, 'foo.example.com. 60 IN A 192.0.2.1']);
  });
});

describe('answer: before the informers have synced', () => {
  const unsynced: RecordView = new Proxy(index, {
    get: (target, prop) => (prop === 'hasSynced' ? () => false : Reflect.get(target, prop, target).bind(target)),
  });
  it('a would-be NXDOMAIN is SERVFAIL with the SOA and aa', () => {
    expect(ask('nope.prod.svc.cluster.local', 'A', {}, unsynced)).toEqual({
      rcode: 'SERVFAIL',
      aa: true,
      answer: [],
      authority: [SOA],
      additional: [],
    });
  });
  it('known names are answered, and nothing is cacheable', () => {
    expect(ask('kubernetes.default.svc.cluster.local', 'A', {}, unsynced)).toMatchObject({ rcode: 'NOERROR' });
    const r = answer({ name: 'kubernetes.default.svc.cluster.local', type: RRType.A, class: RRClass.IN }, unsynced, CONFIG);
    expect((r as Reply).cacheable).toBe(false);
  });
});

describe('answer: dependencies for the response cache', () => {
  it('records what was read', () => {
    const r = answer({ name: 'web.prod.svc.cluster.local', type: RRType.A, class: RRClass.IN }, index, CONFIG) as Reply;
    expect(r.deps.sort()).toEqual(['ns:prod', 'svc:prod/web']);
    const n = answer({ name: 'nope.prod.svc.cluster.local', type: RRType.A, class: RRClass.IN }, index, CONFIG) as Reply;
    expect(n.deps.sort()).toEqual(['ns:prod', 'serial', 'svc:prod/nope']);
    const p = answer({ name: '10.0.96.10.in-addr.arpa', type: RRType.PTR, class: RRClass.IN }, index, CONFIG) as Reply;
    expect(p.deps).toEqual(['ip:10.96.0.10']);
  });
});
