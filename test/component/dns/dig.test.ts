/**
 * The server against the real `dig`, over UDP and TCP: each record kind, flags, EDNS, case,
 * and answers following informer changes. Server on 127.50.0.10:53.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { formatRecord, RRClass, RRType } from '../../../dns/records.js';
import type { DnsServerHandle } from '../../../dns/server.js';
import { decodeMessage } from '../../../dns/wire-decode.js';
import { encodeMessage, FLAG_RD } from '../../../dns/wire-encode.js';
import { clusterIP, externalName, headless, slice, tcp } from '../../unit/dns/fixtures.js';
import { closesDone } from '../../support/leak-check.js';
import { dig, startFixtureServer } from './support.js';

const ADDRESS = '127.50.0.10';
const S = '.svc.cluster.local.';
let dns: DnsServerHandle;
let informers: MemoryInformerFactory;
const queryLines: string[] = [];
let handlesBefore: string[];

beforeAll(async () => {
  handlesBefore = process.getActiveResourcesInfo();
  ({ dns, informers } = await startFixtureServer(ADDRESS, { logQueries: true, queryLog: (l) => queryLines.push(l) }));
});

afterAll(async () => {
  await dns.close();
  // Closed handles leave the list in the loop's close phase (a UDP socket's close callback comes before it).
  await closesDone();
  // Every socket the server opened is gone.
  const count = (list: string[], kind: string) => list.filter((h) => h === kind).length;
  const after = process.getActiveResourcesInfo();
  for (const kind of ['UDPWrap', 'TCPServerWrap', 'TCPSocketWrap']) expect(count(after, kind)).toBeLessThanOrEqual(count(handlesBefore, kind));
});

type Row = [what: string, args: string[], status: string, answer: string[]];
const rows: Row[] = [
  ['ClusterIP A', ['kubernetes.default.svc.cluster.local', 'A'], 'NOERROR', [`kubernetes.default${S} 30 IN A 10.96.0.1`]],
  ['AAAA NODATA', ['kubernetes.default.svc.cluster.local', 'AAAA'], 'NOERROR', []],
  ['headless A', ['db.prod.svc.cluster.local', 'A'], 'NOERROR', [`db.prod${S} 30 IN A 10.244.1.7`, `db.prod${S} 30 IN A 10.244.2.8`]],
  ['hostname', ['db-0.db.prod.svc.cluster.local', 'A'], 'NOERROR', [`db-0.db.prod${S} 30 IN A 10.244.1.7`]],
  ['headless SRV', ['_postgres._tcp.db.prod.svc.cluster.local', 'SRV'], 'NOERROR', [
    `_postgres._tcp.db.prod${S} 30 IN SRV 0 50 5432 db-0.db.prod${S}`,
    `_postgres._tcp.db.prod${S} 30 IN SRV 0 50 5432 db-1.db.prod${S}`,
  ]],
  ['ClusterIP SRV', ['_http._tcp.web.prod.svc.cluster.local', 'SRV'], 'NOERROR', [`_http._tcp.web.prod${S} 30 IN SRV 0 100 80 web.prod${S}`]],
  ['ExternalName CNAME', ['ext.prod.svc.cluster.local', 'CNAME'], 'NOERROR', [`ext.prod${S} 30 IN CNAME foo.example.com.`]],
  ['ExternalName in-zone chase', ['ext-in.prod.svc.cluster.local', 'A'], 'NOERROR', [
    `ext-in.prod${S} 30 IN CNAME web.prod${S}`,
    `web.prod${S} 30 IN A 10.96.5.5`,
  ]],
  ['PTR', ['-x', '10.244.1.7'], 'NOERROR', [`7.1.244.10.in-addr.arpa. 30 IN PTR db-0.db.prod${S}`]],
  ['pod', ['10-244-1-5.default.pod.cluster.local', 'A'], 'NOERROR', ['10-244-1-5.default.pod.cluster.local. 30 IN A 10.244.1.5']],
  ['dns-version', ['dns-version.cluster.local', 'TXT'], 'NOERROR', ['dns-version.cluster.local. 28800 IN TXT "1.1.0"']],
  ['NXDOMAIN', ['nope.prod.svc.cluster.local', 'A'], 'NXDOMAIN', []],
  ['unknown namespace', ['web.nons.svc.cluster.local', 'A'], 'NXDOMAIN', []],
  ['headless without ready endpoints', ['unready.prod.svc.cluster.local', 'A'], 'NXDOMAIN', []],
  ['SOA', ['cluster.local', 'SOA'], 'NOERROR', [expect.stringMatching(/^cluster\.local\. 30 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30$/) as unknown as string]],
  ['NS', ['cluster.local', 'NS'], 'NOERROR', ['cluster.local. 30 IN NS ns.dns.cluster.local.']],
];

describe.each([['udp', '+notcp'], ['tcp', '+tcp']])('dig over %s', (_transport, flag) => {
  it.each(rows)('%s', async (_what, args, status, answer) => {
    const r = await dig(dns, [flag, ...args]);
    expect(r.status).toBe(status);
    // qr aa rd, never ra (miekg/dns SetReply); rd echoed from dig.
    expect(r.flags).toEqual(['qr', 'aa', 'rd']);
    expect([...r.answer].sort()).toEqual([...answer].sort());
    if (answer.length === 0) expect(r.authority[0]).toMatch(/^cluster\.local\. 30 IN SOA /);
  });
});

describe('protocol details', () => {
  it('keeps the question spelling, lower-case object names in SRV targets', async () => {
    const r = await dig(dns, ['_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL', 'SRV']);
    expect(r.answer).toEqual(['_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL. 30 IN SRV 0 100 80 svc1.testns.svc.cLuStEr.LoCaL.']);
    expect(r.additional).toContain('svc1.testns.svc.cLuStEr.LoCaL. 30 IN A 10.96.7.1');
    const lower = await dig(dns, ['_http._tcp.svc1.testns.svc.cluster.local', 'SRV']);
    expect(lower.answer).toEqual(['_http._tcp.svc1.testns.svc.cluster.local. 30 IN SRV 0 100 80 svc1.testns.svc.cluster.local.']);
  });

  it("reflects the client's EDNS buffer size (CoreDNS SizeAndDo) and echoes the cookie; no OPT without EDNS", async () => {
    const r = await dig(dns, ['kubernetes.default.svc.cluster.local']);
    expect(r.raw).toMatch(/EDNS: version: 0, flags:; udp: 1232/); // dig's default
    // (dig 9.18 sends 1232 for +bufsize=32768 and above.)
    for (const size of [0, 100, 512, 4096, 16384]) {
      expect((await dig(dns, [`+bufsize=${size}`, 'kubernetes.default.svc.cluster.local'])).raw).toMatch(new RegExp(`EDNS: version: 0, flags:; udp: ${size}\n`));
    }
    expect(r.raw).toMatch(/COOKIE: [0-9a-f]+ \(echoed\)/);
    const plain = await dig(dns, ['+noedns', 'kubernetes.default.svc.cluster.local']);
    expect(plain.raw).not.toMatch(/OPT PSEUDOSECTION/);
    expect(plain.answer).toEqual([`kubernetes.default${S} 30 IN A 10.96.0.1`]);
    const dnssec = await dig(dns, ['+dnssec', 'kubernetes.default.svc.cluster.local']);
    expect(dnssec.raw).toMatch(/EDNS: version: 0, flags: do; udp: 1232/);
  });

  it('answers BADVERS to EDNS version 1, with a fresh OPT of UDP size 0 as CoreDNS', async () => {
    const r = await dig(dns, ['+edns=1', '+noednsneg', 'kubernetes.default.svc.cluster.local']);
    expect(r.status).toBe('BADVERS');
    expect(r.raw).toMatch(/EDNS: version: 0, flags:; udp: 0\n/);
  });

  it('answers NOTIMP to other opcodes and FORMERR to two questions', async () => {
    const r = await dig(dns, ['+opcode=status', 'kubernetes.default.svc.cluster.local']);
    expect(r.status).toBe('NOTIMP');
    const reply = await udpExchange(ADDRESS, Buffer.from('1234010000020000000000000377777700000100010377777700000100 01'.replace(/ /g, ''), 'hex'));
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(2) & 0x800f).toBe(0x8001); // QR, FORMERR
    expect(reply.length).toBe(12);
  });

  it('refuses zone transfers and, without an upstream, outside names', async () => {
    expect((await dig(dns, ['cluster.local', 'AXFR'])).raw).toMatch(/Transfer failed|REFUSED/);
    const out = await dig(dns, ['example.com', 'A']);
    expect(out.status).toBe('REFUSED');
    expect(out.flags).not.toContain('aa');
  });

  it('serves repeated questions from the cache', async () => {
    const before = dns.stats().cacheHits;
    await dig(dns, ['db.prod.svc.cluster.local']);
    await dig(dns, ['DB.prod.svc.cluster.local']);
    await dig(dns, ['+tcp', 'db.prod.svc.cluster.local']);
    expect(dns.stats().cacheHits - before).toBeGreaterThanOrEqual(2);
    expect(await dns.metrics.metrics()).toMatch(/knet_dns_cache_hits_total \d+/);
    expect(await dns.metrics.metrics()).toMatch(/knet_dns_requests_total\{type="A",proto="udp"\} \d+/);
  });

  it('answers pipelined queries on one TCP connection (RFC 7766), however the bytes arrive', async () => {
    const names = ['kubernetes.default.svc.cluster.local', 'db-0.db.prod.svc.cluster.local', 'nope.prod.svc.cluster.local'];
    const frames = names.map((name, i) => {
      const q = encodeMessage({ id: 1000 + i, flags: FLAG_RD, question: { name, type: RRType.A, class: RRClass.IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      return Buffer.concat([len, q]);
    });
    const all = Buffer.concat(frames);
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const sock = net.connect({ host: ADDRESS, port: 53, localAddress: '127.50.0.1' });
      let buf = Buffer.alloc(0);
      const got: Buffer[] = [];
      sock.on('error', reject);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          got.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + got.at(-1)!.length);
        }
        if (got.length === names.length) {
          sock.end();
          resolve(got);
        }
      });
      // First frame whole, the rest one byte at a time.
      sock.on('connect', async () => {
        sock.write(frames[0]!);
        for (let i = frames[0]!.length; i < all.length; i++) {
          sock.write(all.subarray(i, i + 1));
          if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      });
    });
    const msgs = replies.map((r) => decodeMessage(r)!);
    expect(msgs.map((m) => m.id)).toEqual([1000, 1001, 1002]);
    expect(msgs[0]!.answer.map(formatRecord)).toEqual([`kubernetes.default${S} 30 IN A 10.96.0.1`]);
    expect(msgs[1]!.answer.map(formatRecord)).toEqual([`db-0.db.prod${S} 30 IN A 10.244.1.7`]);
    expect(msgs[2]!.rcode).toBe(3);
  });

  it('logs one CoreDNS-style line per query', async () => {
    await dig(dns, ['+noedns', 'kubernetes.default.svc.cluster.local']);
    expect(queryLines.at(-1)).toMatch(
      /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN kubernetes\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+ [\d.]+s$/,
    );
  });
});

describe('answers follow the cluster', () => {
  it('a scale-up shows in the headless answer at once', async () => {
    informers.upsert(headless('prod', 'scaling', [tcp('http', 80)]));
    informers.upsert(slice('prod', 'scaling', [{ ip: '10.244.11.1' }], [tcp('http', 80)]));
    expect((await dig(dns, ['scaling.prod.svc.cluster.local'])).answer).toHaveLength(1);
    informers.upsert(slice('prod', 'scaling', [{ ip: '10.244.11.1' }, { ip: '10.244.11.2' }, { ip: '10.244.11.3' }], [tcp('http', 80)]));
    expect((await dig(dns, ['scaling.prod.svc.cluster.local'])).answer).toHaveLength(3);
    expect((await dig(dns, ['+tcp', 'scaling.prod.svc.cluster.local'])).answer).toHaveLength(3);
  });

  it('a deleted service becomes NXDOMAIN', async () => {
    informers.upsert(clusterIP('prod', 'doomed', ['10.96.9.9'], [tcp('http', 80)]));
    expect((await dig(dns, ['doomed.prod.svc.cluster.local'])).status).toBe('NOERROR');
    informers.remove(clusterIP('prod', 'doomed', [], []));
    expect((await dig(dns, ['doomed.prod.svc.cluster.local'])).status).toBe('NXDOMAIN');
  });

  it('ExternalName edits and a type change are followed (e2e dns.go)', async () => {
    informers.upsert(externalName('prod', 'moving', 'foo.example.com'));
    expect((await dig(dns, ['moving.prod.svc.cluster.local', 'CNAME'])).answer).toEqual([`moving.prod${S} 30 IN CNAME foo.example.com.`]);
    informers.upsert(externalName('prod', 'moving', 'bar.example.com'));
    expect((await dig(dns, ['moving.prod.svc.cluster.local', 'CNAME'])).answer).toEqual([`moving.prod${S} 30 IN CNAME bar.example.com.`]);
    informers.upsert(clusterIP('prod', 'moving', ['10.96.9.10'], [tcp('http', 80)]));
    expect((await dig(dns, ['moving.prod.svc.cluster.local', 'A'])).answer).toEqual([`moving.prod${S} 30 IN A 10.96.9.10`]);
  });
});

function udpExchange(address: string, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.bind(0, '127.50.0.1', () => s.send(packet, 53, address));
  });
}
