/**
 * Cluster DNS end to end: a real cluster (store, controllers, node agents, proxy, DNS) with
 * real pods, asked with the real `dig` over UDP and TCP. Every record kind of the Kubernetes
 * DNS specification from live objects; a scale-up and a deletion seen in the answers; names
 * outside the zone forwarded to a local test resolver set through the cluster's dnsUpstream.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { cliEntry } from '../../dataplane/cluster/cluster.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { dig as digAt, type DigResult } from '../component/dns/support.js';
import { startUpstreamResolver, type UpstreamResolver } from '../component/dns/upstream-resolver.js';
import { AGNHOST_IMAGE, agnhostWorkload } from '../support/agnhost.js';

const exec = promisify(execFile);
/** The test resolver names outside the zone go to (the DNS test block 127.50.0.0/16). */
const UPSTREAM = '127.50.0.31';
const NS = 'dnse2e';
const TRANSPORTS = [
  ['udp', '+notcp'],
  ['tcp', '+tcp'],
] as const;

let cluster: KnetCluster;
let upstream: UpstreamResolver;

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
${agnhostWorkload({ name: 'hello', namespace: NS, replicas: 2, udp: true })}---
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: ${NS} }
spec:
  selector: { app: hello }
  ports:
  - { name: http, port: 80, targetPort: 8080 }
  - { name: echo, port: 81, targetPort: 8081, protocol: UDP }
---
apiVersion: v1
kind: Service
metadata: { name: hello-headless, namespace: ${NS} }
spec:
  clusterIP: None
  selector: { app: hello }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
${agnhostWorkload({ name: 'web', namespace: NS, statefulSet: true, replicas: 2 })}---
apiVersion: v1
kind: Service
metadata: { name: alias, namespace: ${NS} }
spec: { type: ExternalName, externalName: hello.${NS}.svc.cluster.local }
---
apiVersion: v1
kind: Service
metadata: { name: outside, namespace: ${NS} }
spec: { type: ExternalName, externalName: foo.example.com }
---
apiVersion: v1
kind: Service
metadata: { name: gone, namespace: ${NS} }
spec:
  ports: [{ name: http, port: 80 }]
`;

/** A pod that never becomes ready, behind a headless service with and without publishNotReadyAddresses. */
const UNREADY = `
apiVersion: v1
kind: Pod
metadata: { name: unready, namespace: ${NS}, labels: { app: unready } }
spec:
  containers:
  - name: agnhost
    image: ${AGNHOST_IMAGE}
    args: ["netexec", "--http-port=8080"]
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { exec: { command: ["false"] }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: unready, namespace: ${NS} }
spec:
  clusterIP: None
  selector: { app: unready }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: unready-published, namespace: ${NS} }
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: { app: unready }
  ports: [{ name: http, port: 8080 }]
`;

beforeAll(async () => {
  upstream = await startUpstreamResolver(UPSTREAM);
  cluster = await startCluster({ components: { ingress: false }, config: { dnsUpstream: UPSTREAM } });
  await cluster.apply(MANIFESTS, { timeoutMs: 60_000 });
  await cluster.apply(UNREADY, { wait: false });
  await cluster.waitFor(async () => !!(await pod('unready'))?.status?.podIP, 'the unready pod to get an IP');
}, 120_000);

afterAll(async () => {
  await cluster?.close();
  await upstream?.close();
});

const dig = (args: string[]): Promise<DigResult> => digAt({ address: cluster.dnsServer.host, port: cluster.dnsServer.port }, args);
const fqdn = (name: string) => `${name}.${NS}.svc.cluster.local`;
const dashed = (ip: string) => ip.replaceAll('.', '-');
const pod = (name: string) => cluster.get<Pod>('pod', name, NS);
const clusterIP = async (name: string) => (await cluster.get<Service>('svc', name, NS))!.spec!.clusterIP!;
const readyPodIPs = (app: string) => cluster.readyEndpoints(app, NS);
const sorted = (xs: string[]) => [...xs].sort();
/** The answer's record data (the last field) per record. */
const data = (r: DigResult, section: 'answer' | 'additional' = 'answer') => sorted(r[section].map((l) => l.split(' ').slice(4).join(' ')));

describe.each(TRANSPORTS)('records over %s', (proto, transport) => {
  const ask = (...args: string[]) => dig([transport, ...args]);

  it('ClusterIP service: A for the name, authoritative, TTL 30', async () => {
    const ip = await clusterIP('hello');
    const r = await ask(fqdn('hello'), 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual([`${fqdn('hello')}. 30 IN A ${ip}`]);
  });

  it('ClusterIP service: SRV per named port, pointing at the service, with its address', async () => {
    const ip = await clusterIP('hello');
    const tcp = await ask(`_http._tcp.${fqdn('hello')}`, 'SRV');
    expect(tcp.answer).toEqual([`_http._tcp.${fqdn('hello')}. 30 IN SRV 0 100 80 ${fqdn('hello')}.`]);
    expect(tcp.additional).toContain(`${fqdn('hello')}. 30 IN A ${ip}`);
    const udp = await ask(`_echo._udp.${fqdn('hello')}`, 'SRV');
    expect(udp.answer).toEqual([`_echo._udp.${fqdn('hello')}. 30 IN SRV 0 100 81 ${fqdn('hello')}.`]);
    // A port name under the other protocol does not exist.
    expect((await ask(`_http._udp.${fqdn('hello')}`, 'SRV')).status).toBe('NXDOMAIN');
  });

  it('ClusterIP service: PTR for the ClusterIP', async () => {
    const ip = await clusterIP('hello');
    const r = await ask('-x', ip);
    expect(r.status).toBe('NOERROR');
    expect(data(r)).toEqual([`${fqdn('hello')}.`]);
  });

  it('headless service: an A record per ready pod, every one in every answer', async () => {
    const ips = await readyPodIPs('hello-headless');
    expect(ips).toHaveLength(2);
    const r = await ask(fqdn('hello-headless'), 'A');
    expect(r.flags).toContain('aa');
    expect(data(r)).toEqual(ips);
    expect(r.answer.every((l) => l.startsWith(`${fqdn('hello-headless')}. 30 IN A `))).toBe(true);
  });

  it('headless service: SRV per endpoint with per-endpoint targets, their A records, and PTR for endpoint IPs', async () => {
    const ips = await readyPodIPs('hello-headless');
    const r = await ask(`_http._tcp.${fqdn('hello-headless')}`, 'SRV');
    const targets = ips.map((ip) => `${dashed(ip)}.${fqdn('hello-headless')}.`);
    expect(sorted(r.answer.map((l) => l.split(' ').slice(6).join(' ')))).toEqual(targets.map((t) => `8080 ${t}`).sort());
    expect(sorted(r.additional.filter((l) => l.includes(' IN A ')))).toEqual(sorted(ips.map((ip) => `${dashed(ip)}.${fqdn('hello-headless')}. 30 IN A ${ip}`)));
    const one = await ask(`${dashed(ips[0]!)}.${fqdn('hello-headless')}`, 'A');
    expect(data(one)).toEqual([ips[0]]);
    // An endpoint IP's PTR names it under every service it backs (as CoreDNS's reverse lookup does).
    const ptr = await ask('-x', ips[0]!);
    expect(data(ptr)).toEqual(sorted([`${dashed(ips[0]!)}.${fqdn('hello')}.`, `${dashed(ips[0]!)}.${fqdn('hello-headless')}.`]));
  });

  it('StatefulSet pods: web-0.web.ns.svc answers its own pod, SRV and PTR use the hostname', async () => {
    const [w0, w1] = await Promise.all([pod('web-0'), pod('web-1')]);
    const ip0 = w0!.status!.podIP!;
    const ip1 = w1!.status!.podIP!;
    expect((await ask(`web-0.${fqdn('web')}`, 'A')).answer).toEqual([`web-0.${fqdn('web')}. 30 IN A ${ip0}`]);
    expect((await ask(`web-1.${fqdn('web')}`, 'A')).answer).toEqual([`web-1.${fqdn('web')}. 30 IN A ${ip1}`]);
    expect(data(await ask(fqdn('web'), 'A'))).toEqual(sorted([ip0, ip1]));
    const srv = await ask(`_http._tcp.${fqdn('web')}`, 'SRV');
    expect(sorted(srv.answer.map((l) => l.split(' ').slice(6).join(' ')))).toEqual([`8080 web-0.${fqdn('web')}.`, `8080 web-1.${fqdn('web')}.`]);
    expect(data(await ask('-x', ip0))).toEqual([`web-0.${fqdn('web')}.`]);
    expect((await ask(`web-2.${fqdn('web')}`, 'A')).status).toBe('NXDOMAIN');
  });

  it('ExternalName in the zone: CNAME, then the target service address', async () => {
    const ip = await clusterIP('hello');
    const r = await ask(fqdn('alias'), 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toEqual([`${fqdn('alias')}. 30 IN CNAME ${fqdn('hello')}.`, `${fqdn('hello')}. 30 IN A ${ip}`]);
  });

  it('ExternalName outside the zone: CNAME, then what the upstream answers for the target', async () => {
    const before = upstream.asked.length;
    const r = await ask(fqdn('outside'), 'A');
    expect(r.answer).toEqual([`${fqdn('outside')}. 30 IN CNAME foo.example.com.`, 'foo.example.com. 120 IN A 192.0.2.10']);
    // Not cached: each query asks the upstream again (over UDP, TCP only after truncation).
    expect(upstream.asked.slice(before)).toEqual([{ name: 'foo.example.com', type: 1, transport: 'udp' }]);
  });

  it('pod A records a-b-c-d.ns.pod.cluster.local', async () => {
    const ip = (await pod('web-0'))!.status!.podIP!;
    const name = `${dashed(ip)}.${NS}.pod.cluster.local`;
    const r = await ask(name, 'A');
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual([`${name}. 30 IN A ${ip}`]);
  });

  it('dns-version TXT, SOA and NS of the zone', async () => {
    expect((await ask('dns-version.cluster.local', 'TXT')).answer).toEqual(['dns-version.cluster.local. 28800 IN TXT "1.1.0"']);
    const soa = await ask('cluster.local', 'SOA');
    expect(soa.flags).toContain('aa');
    expect(soa.answer).toHaveLength(1);
    expect(soa.answer[0]).toMatch(/^cluster\.local\. 30 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30$/);
    const ns = await ask('cluster.local', 'NS');
    expect(ns.answer).toEqual(['cluster.local. 30 IN NS kube-dns.kube-system.svc.cluster.local.']);
    expect(ns.additional).toContain(`kube-dns.kube-system.svc.cluster.local. 30 IN A ${cluster.config.dnsServiceIP}`);
  });

  it('NXDOMAIN with the SOA for missing names, unknown namespaces and unready-only headless services', async () => {
    for (const name of [fqdn('nope'), 'hello.no-such-namespace.svc.cluster.local', fqdn('unready'), `x.y.${fqdn('hello-headless')}`]) {
      const r = await ask(name, 'A');
      expect(r.status, name).toBe('NXDOMAIN');
      expect(r.flags, name).toContain('aa');
      expect(r.answer, name).toEqual([]);
      expect(r.authority, name).toHaveLength(1);
      expect(r.authority[0], name).toMatch(/^cluster\.local\. 30 IN SOA ns\.dns\.cluster\.local\. /);
    }
  });

  it('NODATA (NOERROR, no answer, the SOA) for an existing name of another type', async () => {
    for (const [name, type] of [[fqdn('hello'), 'AAAA'], [fqdn('hello'), 'TXT'], [fqdn('hello-headless'), 'MX']] as const) {
      const r = await ask(name, type);
      expect(r.status, `${name} ${type}`).toBe('NOERROR');
      expect(r.answer, `${name} ${type}`).toEqual([]);
      expect(r.authority[0], `${name} ${type}`).toMatch(/^cluster\.local\. 30 IN SOA /);
    }
  });

  it('publishNotReadyAddresses answers the not-ready pod; the plain headless service does not', async () => {
    const ip = (await pod('unready'))!.status!.podIP!;
    expect((await ask(fqdn('unready-published'), 'A')).answer).toEqual([`${fqdn('unready-published')}. 30 IN A ${ip}`]);
    expect((await ask(fqdn('unready'), 'A')).status).toBe('NXDOMAIN');
  });

  it("the reply's OPT carries the size dig advertised (+bufsize), as CoreDNS's; none without EDNS", async () => {
    for (const size of [100, 1232, 4096]) {
      const r = await ask(`+bufsize=${size}`, fqdn('hello-headless'), 'A');
      expect(r.raw).toMatch(new RegExp(`EDNS: version: 0, flags:; udp: ${size}\\n`));
      expect(r.answer).toHaveLength(2);
    }
    expect((await ask('+noedns', fqdn('hello'), 'A')).raw).not.toMatch(/OPT PSEUDOSECTION/);
  });

  it("keeps the question's spelling in the answer", async () => {
    const ip = await clusterIP('hello');
    const r = await ask(`HeLLo.${NS.toUpperCase()}.Svc.Cluster.LOCAL`, 'A');
    expect(r.answer).toEqual([`HeLLo.${NS.toUpperCase()}.Svc.Cluster.LOCAL. 30 IN A ${ip}`]);
  });

  it('forwards a name outside the zone to the configured upstream, over the same transport', async () => {
    const before = upstream.asked.length;
    const r = await ask('example.test', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).not.toContain('aa');
    expect(r.answer).toEqual(['example.test. 300 IN A 192.0.2.1']);
    expect(upstream.asked.slice(before)).toEqual([{ name: 'example.test', type: 1, transport: proto }]);
    expect((await ask('nothing.example.test', 'A')).status).toBe('NXDOMAIN');
  });
});

/** Asks until the answer matches (the DNS follows the watch; no fixed sleep). */
async function digUntil(args: string[], done: (r: DigResult) => boolean, what: string): Promise<DigResult> {
  let last: DigResult | undefined;
  await cluster.waitFor(async () => done((last = await dig(args))), what, 20_000, async () => last?.raw ?? 'no answer yet');
  return last!;
}

describe('changes', () => {
  it('a Deployment scale-up shows in the headless answer, over UDP and TCP', async () => {
    await dig([fqdn('hello-headless')]); // cached before the change
    await cluster.store.mutate('Deployment', NS, 'hello', (d) => ({ ...d, spec: { ...(d.spec as object), replicas: 4 } }));
    const ips = await cluster.waitForEndpoints('hello-headless', 4, NS, 60_000);
    await digUntil(['+notcp', fqdn('hello-headless')], (r) => data(r).join() === ips.join(), '4 A records over UDP');
    expect(data(await dig(['+tcp', fqdn('hello-headless')]))).toEqual(ips);
  });

  it('a deleted service becomes NXDOMAIN', async () => {
    const ip = await clusterIP('gone');
    for (const [, flag] of TRANSPORTS) expect((await dig([flag, fqdn('gone')])).answer).toEqual([`${fqdn('gone')}. 30 IN A ${ip}`]);
    await cluster.delete('svc', 'gone', NS);
    const r = await digUntil([fqdn('gone')], (x) => x.status === 'NXDOMAIN', `${fqdn('gone')} to be NXDOMAIN`);
    expect(r.authority[0]).toMatch(/ IN SOA /);
    expect((await dig(['+tcp', fqdn('gone')])).status).toBe('NXDOMAIN');
    expect((await dig(['-x', ip])).status).toBe('NXDOMAIN');
  });
});

describe('the kube-dns Service', () => {
  const knet = async (...args: string[]) => (await exec(process.execPath, [cliEntry(), ...args, '--cluster', cluster.name, '--state-dir', path.dirname(cluster.stateDir)], { timeout: 30_000 })).stdout;

  it('shows in knet get svc -A at the DNS address, with the port in use as an annotation', async () => {
    const line = (await knet('get', 'svc', '-A')).split('\n').find((l) => /^kube-system\s+kube-dns\s/.test(l));
    expect(line?.split(/\s+/).slice(0, 6)).toEqual(['kube-system', 'kube-dns', 'ClusterIP', cluster.config.dnsServiceIP, '<none>', '53/UDP,53/TCP,9153/TCP']);
    const yaml = await knet('get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'yaml');
    expect(yaml).toContain(`knet.dev/dns-port: "${cluster.dnsServer.port}"`);
  });

  it('serves Prometheus metrics on its metrics port, 9153', async () => {
    const body = await (await fetch(`http://${cluster.dnsServer.host}:9153/metrics`)).text();
    expect(Number(/^knet_dns_requests_total\{type="A",proto="udp"\} (\d+)$/m.exec(body)?.[1])).toBeGreaterThan(10);
    expect(body).toMatch(/^knet_dns_responses_total\{rcode="NXDOMAIN"\} \d+$/m);
    expect(body).toMatch(/^knet_dns_cache_hits_total \d+$/m);
  });
});
