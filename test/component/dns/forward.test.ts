/**
 * Forwarding of names outside the cluster zone to a local test resolver on 127.50.0.53,
 * the ExternalName chase through it, reverse-zone fallthrough, timeouts and concurrency.
 * Server on 127.50.0.13:53.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import { Forwarder } from '../../../dns/forwarder.js';
import { RRClass, RRType } from '../../../dns/records.js';
import type { DnsServerHandle } from '../../../dns/server.js';
import { encodeMessage, FLAG_RD } from '../../../dns/wire-encode.js';
import { externalName } from '../../unit/dns/fixtures.js';
import { waitUntil } from '../../../dataplane/cluster/wait-until.js';
import { dig, startFixtureServer } from './support.js';
import { startUpstreamResolver, type UpstreamResolver } from './upstream-resolver.js';

const ADDRESS = '127.50.0.13';
const UPSTREAM = '127.50.0.53';
let dns: DnsServerHandle;
let informers: MemoryInformerFactory;
let upstream: UpstreamResolver;

beforeAll(async () => {
  upstream = await startUpstreamResolver(UPSTREAM);
  ({ dns, informers } = await startFixtureServer(ADDRESS, { upstream: UPSTREAM, forwardTimeoutMs: 500 }));
});

afterAll(async () => {
  await dns.close();
  await upstream.close();
});

describe('forwarding', () => {
  it('reports the upstream it uses', () => {
    expect(dns.upstream).toBe(`${UPSTREAM}:53`);
  });

  it.each([['udp', '+notcp'], ['tcp', '+tcp']])('forwards an outside name over %s, keeping the upstream flags', async (transport, flag) => {
    const r = await dig(dns, [flag, 'example.test', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toEqual(['example.test. 300 IN A 192.0.2.1']);
    expect(r.flags).toEqual(['qr', 'rd', 'ra']);
    expect(upstream.asked.at(-1)).toMatchObject({ name: 'example.test', transport });
  });

  it.each([['udp', '+notcp'], ['tcp', '+tcp']])(
    "over %s, the forwarded reply's OPT carries the client's size (CoreDNS SizeAndDo): the upstream's rewritten, or the request's added",
    async (_transport, flag) => {
      const own = await dig(dns, [flag, '+bufsize=1400', '+dnssec', 'opt.example.test', 'A']); // the upstream says 4096
      expect(own.answer).toEqual(['opt.example.test. 300 IN A 192.0.2.1']);
      expect(own.raw).toMatch(/EDNS: version: 0, flags: do; udp: 1400\n/);
      const none = await dig(dns, [flag, '+bufsize=700', 'example.test', 'A']); // the upstream sends no OPT
      expect(none.raw).toMatch(/EDNS: version: 0, flags:; udp: 700\n/);
      expect(none.raw).toMatch(/COOKIE: [0-9a-f]+ \(echoed\)/);
      const plain = await dig(dns, [flag, '+noedns', 'opt.example.test', 'A']);
      expect(plain.raw).not.toMatch(/OPT PSEUDOSECTION/);
    },
  );

  it('passes upstream NXDOMAIN through', async () => {
    expect((await dig(dns, ['nothing.example.test'])).status).toBe('NXDOMAIN');
  });

  it('answers SERVFAIL when the upstream does not answer in time', async () => {
    const r = await dig(dns, ['slow.example.test']);
    expect(r.status).toBe('SERVFAIL');
    expect(dns.stats().forwardFailures).toBeGreaterThan(0);
  });

  it('passes a truncated upstream answer on, and dig then gets it all over TCP', async () => {
    const udpOnly = await dig(dns, ['+ignore', 'big.example.test']);
    expect(udpOnly.flags).toContain('tc');
    const full = await dig(dns, ['big.example.test']);
    expect(full.answer).toHaveLength(100);
  });

  it('forwards other classes (CH) upstream', async () => {
    const r = await dig(dns, ['version.bind', 'TXT', 'CH']);
    expect(r.answer).toEqual(['version.bind. 0 CH TXT "test-upstream"']);
  });

  it('sends reverse-zone misses upstream (kubeadm fallthrough), answers known IPs itself', async () => {
    expect((await dig(dns, ['-x', '10.9.9.9'])).answer).toEqual(['9.9.9.10.in-addr.arpa. 60 IN PTR upstream-ptr.example.']);
    const own = await dig(dns, ['-x', '10.244.1.7']);
    expect(own.answer).toEqual(['7.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.prod.svc.cluster.local.']);
    expect(own.flags).toContain('aa');
  });

  it('never forwards cluster.local misses', async () => {
    const before = upstream.asked.length;
    expect((await dig(dns, ['nope.prod.svc.cluster.local'])).status).toBe('NXDOMAIN');
    expect(upstream.asked.length).toBe(before);
  });
});

describe('ExternalName chase', () => {
  it('an outside target is resolved upstream: CNAME + its addresses', async () => {
    const r = await dig(dns, ['ext.prod.svc.cluster.local', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.answer).toEqual(['ext.prod.svc.cluster.local. 30 IN CNAME foo.example.com.', 'foo.example.com. 120 IN A 192.0.2.10']);
  });

  it('an unresolvable target still gets the CNAME (upstream rcode ignored)', async () => {
    informers.upsert(externalName('prod', 'ext-nx', 'gone.example.test'));
    const r = await dig(dns, ['ext-nx.prod.svc.cluster.local', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toEqual(['ext-nx.prod.svc.cluster.local. 30 IN CNAME gone.example.test.']);
  });
});

describe('shutdown', () => {
  it('closes cleanly with forwarded queries still in flight', async () => {
    const { dns: other } = await startFixtureServer('127.50.0.16', { upstream: UPSTREAM, forwardTimeoutMs: 5000 });
    const pending = dig(other, ['+time=1', 'slow.example.test']).catch(() => undefined);
    await waitUntil(() => other.stats().forwarded > 0, { timeoutMs: 5000, onTimeout: () => new Error('the query was never forwarded') });
    expect(other.stats().forwarded).toBe(1);
    await other.close();
    await pending;
  });
});

describe('Forwarder', () => {
  it('refuses beyond maxConcurrent and times out without hanging', async () => {
    const f = new Forwarder({ host: UPSTREAM, port: 53, timeoutMs: 300, maxConcurrent: 1, log: silentLogger });
    const query = encodeMessage({
      id: 7,
      flags: FLAG_RD,
      question: { name: 'slow.example.test', type: RRType.A, class: RRClass.IN },
      answer: [],
      authority: [],
      additional: [],
      budget: 512,
    }).bytes;
    const [first, second] = await Promise.all([f.forward(query, false), f.forward(query, false)]);
    expect(first).toBe('timeout');
    expect(second).toBe('busy');
    const ok = await f.forward(
      encodeMessage({
        id: 4242,
        flags: FLAG_RD,
        question: { name: 'example.test', type: RRType.A, class: RRClass.IN },
        answer: [],
        authority: [],
        additional: [],
        budget: 512,
      }).bytes,
      false,
    );
    expect(Buffer.isBuffer(ok) && ok.readUInt16BE(0)).toBe(4242);
    expect(await f.lookup('foo.example.com', RRType.A)).toHaveLength(1);
    await f.close();
  });
});
