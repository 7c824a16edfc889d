/**
 * Random and mutated packets over UDP and TCP; afterwards the server still answers
 * correctly. Server on 127.50.0.12:53.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RRClass, RRType } from '../../../dns/records.js';
import type { DnsServerHandle } from '../../../dns/server.js';
import { encodeMessage, encodeOpt, FLAG_RD } from '../../../dns/wire-encode.js';
import { dig, startFixtureServer } from './support.js';

const ADDRESS = '127.50.0.12';
const UDP_PACKETS = 20_000;
const TCP_CONNECTIONS = 20;
let dns: DnsServerHandle;

beforeAll(async () => {
  ({ dns } = await startFixtureServer(ADDRESS));
});

afterAll(async () => {
  await dns.close();
});

const NAMES = ['kubernetes.default.svc.cluster.local', 'db.prod.svc.cluster.local', '_postgres._tcp.db.prod.svc.cluster.local', '7.1.244.10.in-addr.arpa', 'x.cluster.local', 'example.com', ''];
const TYPES = [RRType.A, RRType.AAAA, RRType.SRV, RRType.PTR, RRType.TXT, RRType.ANY, RRType.AXFR, RRType.OPT, 0, 65535];

function validQuery(name: string, type: number, edns: boolean): Buffer {
  const q = encodeMessage({ id: 1, flags: FLAG_RD, question: { name, type, class: RRClass.IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
  if (!edns) return q;
  const out = Buffer.concat([q, encodeOpt(1232, 0, true, [{ code: 10, data: Buffer.alloc(8, 7) }])]);
  out.writeUInt16BE(1, 10);
  return out;
}

/** Valid queries with random bytes overwritten, cut short, or extended; and plain noise. */
const packetArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => Buffer.from(b)),
  fc
    .record({
      name: fc.constantFrom(...NAMES),
      type: fc.constantFrom(...TYPES),
      edns: fc.boolean(),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      tail: fc.uint8Array({ maxLength: 20 }),
    })
    .map(({ name, type, edns, edits, cut, tail }) => {
      const q = validQuery(name, type, edns);
      for (const [at, v] of edits) q[at % q.length] = v;
      const body = cut === undefined ? q : q.subarray(0, cut % (q.length + 1));
      return Buffer.concat([body, Buffer.from(tail)]);
    }),
  // Header fuzz on an otherwise valid query: counts, opcode, flags.
  fc.record({ flags: fc.integer({ min: 0, max: 0xffff }), counts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }) }).map(({ flags, counts }) => {
    const q = validQuery('db.prod.svc.cluster.local', RRType.A, true);
    q.writeUInt16BE(flags, 2);
    counts.forEach((c, i) => q.writeUInt16BE(c, 4 + 2 * i));
    return q;
  }),
);

it(`survives ${UDP_PACKETS} random and mutated UDP packets`, async () => {
  const packets = fc.sample(packetArb, { numRuns: UDP_PACKETS, seed: 20240611 });
  const client = dgram.createSocket('udp4');
  let replies = 0;
  let malformedReplies = 0;
  client.on('message', (m) => {
    replies++;
    if (m.length < 12 || (m.readUInt16BE(2) & 0x8000) === 0) malformedReplies++;
  });
  await new Promise<void>((r) => client.bind(0, '127.50.0.1', () => r()));
  for (let i = 0; i < packets.length; i += 200) {
    for (const p of packets.slice(i, i + 200)) client.send(p, 53, ADDRESS);
    await new Promise((r) => setTimeout(r, 4));
  }
  await new Promise((r) => setTimeout(r, 200));
  client.close();
  // Every reply is a response; some queries parse and get answered, the rest FORMERR/NOTIMP or nothing.
  expect(replies).toBeGreaterThan(1000);
  expect(malformedReplies).toBe(0);
  const stats = dns.stats();
  expect(stats.dropped).toBeGreaterThan(0);
  expect(stats.byRcode.FORMERR).toBeGreaterThan(0);
  expect(stats.queries).toBeGreaterThan(100);
});

it(`survives garbage on ${TCP_CONNECTIONS} TCP connections`, async () => {
  const chunks = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { numRuns: TCP_CONNECTIONS * 10, seed: 7 });
  const framed = fc.sample(packetArb, { numRuns: TCP_CONNECTIONS * 10, seed: 8 });
  await Promise.all(
    Array.from({ length: TCP_CONNECTIONS }, (_, c) =>
      new Promise<void>((resolve) => {
        const sock = net.connect({ host: ADDRESS, port: 53, localAddress: '127.50.0.1' });
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.on('data', () => {});
        sock.on('connect', () => {
          // Well-framed fuzz first (the server must answer or skip each), then raw garbage.
          for (const p of framed.slice(c * 10, c * 10 + 10)) {
            const len = Buffer.alloc(2);
            len.writeUInt16BE(p.length);
            sock.write(Buffer.concat([len, p]));
          }
          for (const g of chunks.slice(c * 10, c * 10 + 10)) sock.write(g);
          setTimeout(() => sock.destroy(), 100);
        });
      }),
    ),
  );
});

it('still answers correctly afterwards, over UDP and TCP', async () => {
  for (const flag of ['+notcp', '+tcp']) {
    const r = await dig(dns, [flag, 'db.prod.svc.cluster.local']);
    expect(r.status).toBe('NOERROR');
    expect([...r.answer].sort()).toEqual(['db.prod.svc.cluster.local. 30 IN A 10.244.1.7', 'db.prod.svc.cluster.local. 30 IN A 10.244.2.8']);
    expect((await dig(dns, [flag, 'nope.prod.svc.cluster.local'])).status).toBe('NXDOMAIN');
  }
});
