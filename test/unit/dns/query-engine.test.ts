/** The query engine without sockets: cache, re-spelling, flags, invalidation, shuffling. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Informer, InformerFactory } from '../../../dataplane/base/informer/informer-types.js';
import type { KObject, Kind } from '../../../dataplane/base/model/object.js';
import { DnsStats } from '../../../dns/dns-stats.js';
import { QueryEngine } from '../../../dns/query-engine.js';
import { RecordIndex } from '../../../dns/record-index.js';
import { formatRecord, Opcode, rcodeName, RRClass, RRType } from '../../../dns/records.js';
import { decodeMessage, findOpt } from '../../../dns/wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_AA, FLAG_CD, FLAG_QR, FLAG_RD, FLAG_TC } from '../../../dns/wire-encode.js';
import { clusterIP, fixtureCluster, fixtureObjects, headless, slice, tcp } from './fixtures.js';

function engineFor(index: RecordIndex, opts: { shuffle?: boolean; forwarding?: boolean } = {}): { engine: QueryEngine; stats: DnsStats } {
  const stats = new DnsStats();
  const engine = new QueryEngine({
    view: index,
    answerConfig: { clusterDomain: 'cluster.local', ttl: 30, podMode: 'insecure', nsAddress: '10.96.0.10', forwarding: opts.forwarding ?? false },
    stats,
    shuffle: opts.shuffle ?? false,
  });
  return { engine, stats };
}

interface Ask {
  id?: number;
  flags?: number;
  edns?: number;
  version?: number;
  dnssecOk?: boolean;
  transport?: 'udp' | 'tcp';
}

function packet(name: string, type: number, a: Ask = {}): Buffer {
  const q = encodeMessage({ id: a.id ?? 1, flags: a.flags ?? FLAG_RD, question: { name, type, class: RRClass.IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
  if (a.edns === undefined) return q;
  const opt = encodeOpt(a.edns, 0, a.dnssecOk ?? false, []);
  if (a.version) opt[6] = a.version;
  const out = Buffer.concat([q, opt]);
  out.writeUInt16BE(1, 10);
  return out;
}

function ask(engine: QueryEngine, name: string, type: number, a: Ask = {}) {
  const out = engine.handle(packet(name, type, a), a.transport ?? 'udp');
  if (!Buffer.isBuffer(out)) throw new Error('expected a synchronous reply');
  const msg = decodeMessage(out)!;
  return { out, msg, flags: msg.flags, rcode: rcodeName(msg.rcode), answer: msg.answer.map(formatRecord) };
}

describe('QueryEngine', () => {
  it('patches the ID and serves repeats from the cache', () => {
    const { engine, stats } = engineFor(fixtureCluster().index);
    const a = ask(engine, 'kubernetes.default.svc.cluster.local', RRType.A, { id: 100 });
    const b = ask(engine, 'kubernetes.default.svc.cluster.local', RRType.A, { id: 200 });
    expect(a.msg.id).toBe(100);
    expect(b.msg.id).toBe(200);
    expect(b.answer).toEqual(['kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1']);
    expect(stats.cacheHits).toBe(1);
    expect(stats.cacheMisses).toBe(1);
  });

  it('re-spells a cached answer for another spelling of the question', () => {
    const { engine, stats } = engineFor(fixtureCluster().index);
    ask(engine, '_http._tcp.svc1.testns.svc.cluster.local', RRType.SRV);
    const r = ask(engine, '_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL', RRType.SRV);
    expect(stats.cacheHits).toBe(1);
    expect(r.msg.questions[0]!.name).toBe('_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL');
    expect(r.answer).toEqual(['_HtTp._TcP.sVc1.TeStNs.SvC.cLuStEr.LoCaL. 30 IN SRV 0 100 80 svc1.testns.svc.cLuStEr.LoCaL.']);
    const neg = ask(engine, 'NoPe.PrOd.SvC.ClUsTeR.lOcAl', RRType.A);
    expect(neg.rcode).toBe('NXDOMAIN');
    const again = ask(engine, 'nope.prod.svc.CLUSTER.local', RRType.A);
    expect(again.msg.questions[0]!.name).toBe('nope.prod.svc.CLUSTER.local');
  });

  it('copies RD, CD and the opcode; sets qr and aa, never ra', () => {
    const { engine } = engineFor(fixtureCluster().index);
    const plain = ask(engine, 'kubernetes.default.svc.cluster.local', RRType.A, { flags: 0 });
    expect(plain.flags).toBe(FLAG_QR | FLAG_AA);
    const cd = ask(engine, 'kubernetes.default.svc.cluster.local', RRType.A, { flags: FLAG_RD | FLAG_CD });
    expect(cd.flags).toBe(FLAG_QR | FLAG_AA | FLAG_RD | FLAG_CD);
    const notify = ask(engine, 'kubernetes.default.svc.cluster.local', RRType.A, { flags: Opcode.NOTIFY << 11 });
    expect((notify.flags >> 11) & 0xf).toBe(Opcode.NOTIFY);
  });

  it('invalidates exactly the answers whose facts changed', () => {
    const { informers, index } = fixtureCluster();
    const { engine, stats } = engineFor(index);
    ask(engine, 'web.prod.svc.cluster.local', RRType.A);
    ask(engine, 'db.prod.svc.cluster.local', RRType.A);
    // Another service changes: both answers stay cached.
    informers.upsert(clusterIP('prod', 'unrelated', ['10.96.99.1'], [tcp('http', 80)]));
    ask(engine, 'web.prod.svc.cluster.local', RRType.A);
    expect(stats.cacheHits).toBe(1);
    // db's endpoints change: its answer is recomputed at once, web's is still a hit.
    informers.upsert(slice('prod', 'db', [{ ip: '10.244.1.7', hostname: 'db-0' }], [tcp('postgres', 5432)]));
    expect(ask(engine, 'db.prod.svc.cluster.local', RRType.A).answer).toEqual(['db.prod.svc.cluster.local. 30 IN A 10.244.1.7']);
    ask(engine, 'web.prod.svc.cluster.local', RRType.A);
    expect(stats.cacheHits).toBe(2);
  });

  it('a cached NXDOMAIN turns into an answer when the service appears', () => {
    const { informers, index } = fixtureCluster();
    const { engine } = engineFor(index);
    expect(ask(engine, 'late.prod.svc.cluster.local', RRType.A).rcode).toBe('NXDOMAIN');
    informers.upsert(clusterIP('prod', 'late', ['10.96.99.2'], [tcp('http', 80)]));
    expect(ask(engine, 'late.prod.svc.cluster.local', RRType.A).answer).toEqual(['late.prod.svc.cluster.local. 30 IN A 10.96.99.2']);
  });

  it('truncates per client size from one cache entry', () => {
    const ips = Array.from({ length: 100 }, (_, i) => ({ ip: `10.244.20.${i + 1}` }));
    const { index } = fixtureCluster([...fixtureObjects(), headless('prod', 'hundred', [tcp('http', 80)]), slice('prod', 'hundred', ips, [tcp('http', 80)])]);
    const { engine, stats } = engineFor(index);
    const small = ask(engine, 'hundred.prod.svc.cluster.local', RRType.A);
    expect(small.flags & FLAG_TC).toBe(FLAG_TC);
    expect(small.out.length).toBeLessThanOrEqual(512);
    const big = ask(engine, 'hundred.prod.svc.cluster.local', RRType.A, { edns: 4096 });
    expect(big.flags & FLAG_TC).toBe(0);
    expect(big.answer).toHaveLength(100);
    const viaTcp = ask(engine, 'hundred.prod.svc.cluster.local', RRType.A, { transport: 'tcp' });
    expect(viaTcp.answer).toHaveLength(100);
    expect(stats.cacheMisses).toBe(1);
    expect(stats.cacheHits).toBe(2);
  });

  it('shuffles address records per response, keeping the set', () => {
    const { engine } = engineFor(fixtureCluster().index, { shuffle: true });
    const orders = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const r = ask(engine, 'three.prod.svc.cluster.local', RRType.A);
      expect([...r.answer].sort()).toEqual([
        'three.prod.svc.cluster.local. 30 IN A 10.244.7.1',
        'three.prod.svc.cluster.local. 30 IN A 10.244.7.2',
        'three.prod.svc.cluster.local. 30 IN A 10.244.7.3',
      ]);
      orders.add(r.answer.join('|'));
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('answers BADVERS to EDNS version 1', () => {
    const { engine } = engineFor(fixtureCluster().index);
    const out = engine.handle(packet('kubernetes.default.svc.cluster.local', RRType.A, { edns: 1232, version: 1 }), 'udp') as Buffer;
    expect(out.readUInt16BE(2) & 0xf).toBe(0);
    expect(out.readUInt16BE(10)).toBe(1);
    // OPT at the end: extended rcode byte = 16 >> 4.
    expect(out[out.length - 11 + 5]).toBe(1);
  });

  it('before sync: SERVFAIL for would-be NXDOMAIN, nothing cached', () => {
    const synced = { value: false };
    const { informers } = fixtureCluster();
    const gated: InformerFactory = {
      informer<T extends KObject>(kind: Kind): Informer<T> {
        const inner = informers.informer<T>(kind);
        return Object.assign(Object.create(inner) as Informer<T>, { hasSynced: () => synced.value });
      },
      waitForSync: async () => {},
    };
    const { engine } = engineFor(new RecordIndex(gated));
    expect(ask(engine, 'nope.prod.svc.cluster.local', RRType.A).rcode).toBe('SERVFAIL');
    synced.value = true;
    expect(ask(engine, 'nope.prod.svc.cluster.local', RRType.A).rcode).toBe('NXDOMAIN');
  });

  it('never throws, and every reply answers the request ID', () => {
    const { engine } = engineFor(fixtureCluster().index);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const out = engine.handle(buf, 'udp');
        if (out === null) return;
        expect(Buffer.isBuffer(out)).toBe(true);
        const b = out as Buffer;
        expect(b.readUInt16BE(0)).toBe(buf.readUInt16BE(0));
        expect(b.readUInt16BE(2) & FLAG_QR).toBe(FLAG_QR);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('QueryEngine: a question name with a compression pointer', () => {
  it('is answered with its own spelling (it cannot be re-spelled in place)', () => {
    const { engine, stats } = engineFor(fixtureCluster().index);
    // Header with ARCOUNT 0, then "KubErnetes" + a pointer to offset 11 (ARCOUNT's low byte, 0):
    // the name "KubErnetes.", outside every zone.
    const header = Buffer.from([0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const q = Buffer.concat([header, Buffer.from('\x0aKubErnetes', 'latin1'), Buffer.from([0xc0, 11, 0, 1, 0, 1])]);
    const msg = decodeMessage(engine.handle(q, 'udp') as Buffer)!;
    expect(msg.rcode).toBe(5);
    expect(msg.questions[0]!.name).toBe('KubErnetes');
    expect(stats.cacheHits + stats.cacheMisses).toBe(1);
  });
});

/** The reply's OPT: its UDP size and its TTL bytes (extended rcode, version, flags), or none. */
function replyOpt(out: Buffer): { udpSize: number; extRcode: number; version: number; dnssecOk: boolean } | undefined {
  const at = findOpt(out);
  if (at === undefined) throw new Error('reply cannot be walked');
  if (at < 0) return undefined;
  return { udpSize: out.readUInt16BE(at + 3), extRcode: out[at + 5]!, version: out[at + 6]!, dnssecOk: (out[at + 7]! & 0x80) !== 0 };
}

describe("QueryEngine: the reply's OPT and the size in force (CoreDNS request.SizeAndDo and request.Size)", () => {
  const hundred = () => {
    const ips = Array.from({ length: 100 }, (_, i) => ({ ip: `10.244.20.${i + 1}` }));
    return fixtureCluster([...fixtureObjects(), headless('prod', 'hundred', [tcp('http', 80)]), slice('prod', 'hundred', ips, [tcp('http', 80)])]);
  };
  const NAME = 'hundred.prod.svc.cluster.local';
  // 12 header + 36 question; each further A record is 16 bytes (compressed owner); OPT 11.
  const A_RECORD = 16;

  it.each([0, 100, 511, 512, 1232, 4096, 65535])('carries the UDP size the client advertised, as sent: %i', (size) => {
    const { engine } = engineFor(hundred().index);
    for (const dnssecOk of [false, true]) {
      const r = ask(engine, NAME, RRType.A, { edns: size, dnssecOk });
      expect(replyOpt(r.out)).toEqual({ udpSize: size, extRcode: 0, version: 0, dnssecOk });
    }
  });

  it('no OPT in the query, none in the reply, and 512 bytes in force', () => {
    const { engine } = engineFor(hundred().index);
    const r = ask(engine, NAME, RRType.A);
    expect(replyOpt(r.out)).toBeUndefined();
    expect(r.flags & FLAG_TC).toBe(FLAG_TC);
    expect(r.out.length).toBeLessThanOrEqual(512);
    expect(r.out.length + A_RECORD).toBeGreaterThan(512);
  });

  it.each([
    [0, 512],
    [100, 512],
    [511, 512],
    [512, 512],
    [700, 700],
    [1232, 1232],
    [1500, 1500],
  ])('truncates to the size in force: advertised %i → %i bytes, as many records as fit, TC', (size, inForce) => {
    const { engine } = engineFor(hundred().index);
    const r = ask(engine, NAME, RRType.A, { edns: size });
    expect(r.flags & FLAG_TC).toBe(FLAG_TC);
    expect(r.out.length).toBeLessThanOrEqual(inForce);
    expect(r.out.length + A_RECORD).toBeGreaterThan(inForce);
    expect(replyOpt(r.out)!.udpSize).toBe(size);
  });

  it('a size above the answer is not truncated, from the same cache entry the small sizes used', () => {
    const { engine, stats } = engineFor(hundred().index);
    const small = ask(engine, NAME, RRType.A, { edns: 700 });
    const big = ask(engine, NAME, RRType.A, { edns: 4096 });
    expect(small.answer.length).toBeLessThan(100);
    expect(big.flags & FLAG_TC).toBe(0);
    expect(big.answer).toHaveLength(100);
    expect([replyOpt(small.out)!.udpSize, replyOpt(big.out)!.udpSize]).toEqual([700, 4096]);
    expect(stats.cacheHits).toBe(1);
  });

  it('over TCP 64 KiB is in force whatever the client advertised; the OPT still carries its UDP size', () => {
    const { engine } = engineFor(hundred().index);
    const r = ask(engine, NAME, RRType.A, { edns: 600, transport: 'tcp' });
    expect(r.flags & FLAG_TC).toBe(0);
    expect(r.answer).toHaveLength(100);
    expect(replyOpt(r.out)!.udpSize).toBe(600);
  });

  it('65535 over UDP: at most what one IPv4 datagram carries (65507), truncated beyond', () => {
    // 4,200 addresses: 67 KB of A records.
    const ips = Array.from({ length: 4200 }, (_, i) => ({ ip: `10.245.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
    const { index } = fixtureCluster([...fixtureObjects(), headless('prod', 'huge', [tcp('http', 80)]), slice('prod', 'huge', ips, [tcp('http', 80)])]);
    const { engine } = engineFor(index);
    const r = ask(engine, 'huge.prod.svc.cluster.local', RRType.A, { edns: 65535 });
    expect(r.flags & FLAG_TC).toBe(FLAG_TC);
    expect(r.out.length).toBeLessThanOrEqual(65507);
    expect(r.out.length + A_RECORD).toBeGreaterThan(65507);
    expect(replyOpt(r.out)!.udpSize).toBe(65535);
  });

  it("the server's own error replies reflect it too (REFUSED: forwarding on, no upstream)", async () => {
    const { engine } = engineFor(hundred().index, { forwarding: true });
    const out = await engine.handle(packet('example.com', RRType.A, { edns: 1400, dnssecOk: true }), 'udp');
    expect(rcodeName(decodeMessage(out!)!.rcode)).toBe('REFUSED');
    expect(replyOpt(out!)).toEqual({ udpSize: 1400, extRcode: 0, version: 0, dnssecOk: true });
  });

  it("BADVERS carries a fresh OPT with UDP size 0 (CoreDNS answers it before its scrub writer reflects the client's)", () => {
    const { engine } = engineFor(hundred().index);
    const out = engine.handle(packet(NAME, RRType.A, { edns: 4096, version: 1 }), 'udp') as Buffer;
    expect(replyOpt(out)).toEqual({ udpSize: 0, extRcode: 1, version: 0, dnssecOk: false });
  });
});
