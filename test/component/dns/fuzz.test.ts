/**
 * 100,000 random and mutated packets over UDP and TCP: every packet the parser accepts gets
 * a well-formed response with its ID (over TCP, in order on each connection), none takes the
 * server down or stalls a connection, and afterwards it still answers correctly. Server on
 * 127.50.0.12:53.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RRClass, RRType } from '../../../dns/records.js';
import type { DnsServerHandle } from '../../../dns/server.js';
import { decodeMessage, scanQuery } from '../../../dns/wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_RD } from '../../../dns/wire-encode.js';
import { dig, startFixtureServer } from './support.js';

const ADDRESS = '127.50.0.12';
/** 100,000 packets in all, as the issue asks: 60,000 over UDP, 40,000 framed over TCP. */
const UDP_PACKETS = 60_000;
const TCP_PACKETS = 40_000;
const TCP_CONNECTIONS = 40;
const GARBAGE_CONNECTIONS = 20;
let dns: DnsServerHandle;

beforeAll(async () => {
  ({ dns } = await startFixtureServer(ADDRESS));
});

afterAll(async () => {
  await dns.close();
});

/** A name no fuzzed packet asks for: its answer marks the end of the UDP run. */
const SENTINEL = 'end-of-fuzz.default.svc.cluster.local';
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

/** Replies the server owes: one per packet its parser does not ignore (replies to replies, too short). */
const owed = (packets: Buffer[]) => packets.filter((p) => scanQuery(p).kind !== 'ignore');

/** A reply is a well-formed response to the packet it answers: QR set, same ID, decodable. */
function checkReply(reply: Buffer, request: Buffer): string | undefined {
  if (reply.length < 12) return `short reply (${reply.length} bytes)`;
  if ((reply.readUInt16BE(2) & 0x8000) === 0) return 'QR not set';
  if (reply.readUInt16BE(0) !== request.readUInt16BE(0)) return `ID ${reply.readUInt16BE(0)} for a query with ID ${request.readUInt16BE(0)}`;
  if (!decodeMessage(reply)) return 'reply does not decode';
  return undefined;
}

it(`survives ${UDP_PACKETS} random and mutated UDP packets`, async () => {
  const packets = fc.sample(packetArb, { numRuns: UDP_PACKETS, seed: 20240611 });
  const expected = owed(packets).length;
  const client = dgram.createSocket('udp4');
  let replies = 0;
  const bad: string[] = [];
  let sentinelAnswered = (): void => {};
  client.on('message', (m) => {
    const msg = m.length >= 12 && (m.readUInt16BE(2) & 0x8000) !== 0 ? decodeMessage(m) : undefined;
    if (msg?.questions[0]?.name === SENTINEL) return sentinelAnswered();
    replies++;
    if (!msg) bad.push(m.toString('hex'));
  });
  await new Promise<void>((r) => client.bind(0, '127.50.0.1', () => r()));
  client.setRecvBufferSize(4 << 20);
  // Flow control: a batch at a time, the next once the replies owed so far are in (or 200 ms
  // passed), so the kernel does not drop what the server has no time to read (client and
  // server share this one thread).
  let owedSoFar = 0;
  for (let i = 0; i < packets.length; i += 400) {
    const batch = packets.slice(i, i + 400);
    owedSoFar += owed(batch).length;
    for (const p of batch) client.send(p, 53, ADDRESS);
    const deadline = Date.now() + 200;
    while (replies < owedSoFar && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  }
  // The server reads this socket's datagrams in order and answers cluster names at once, so the
  // sentinel's reply comes after every reply it owes (resent only should a datagram be lost).
  await new Promise<void>((resolve) => {
    const resend = setInterval(() => client.send(validQuery(SENTINEL, RRType.A, false), 53, ADDRESS), 1000);
    sentinelAnswered = () => {
      clearInterval(resend);
      resolve();
    };
    client.send(validQuery(SENTINEL, RRType.A, false), 53, ADDRESS);
  });
  const stats = dns.stats();
  client.close();
  expect(bad).toEqual([]);
  // UDP may still lose a datagram on a busy machine; more than a sliver is the server's fault.
  expect(replies).toBeGreaterThan(expected * 0.99);
  expect(replies).toBeLessThanOrEqual(expected);
  expect(stats.dropped).toBeGreaterThan(0);
  expect(stats.byRcode.FORMERR).toBeGreaterThan(0);
  expect(stats.byRcode.NOTIMP).toBeGreaterThan(0);
  expect(stats.queries).toBeGreaterThan(1000);
}, 60_000);

it(`survives ${TCP_PACKETS} random and mutated packets framed on ${TCP_CONNECTIONS} TCP connections, answering each in order`, async () => {
  const packets = fc.sample(packetArb, { numRuns: TCP_PACKETS, seed: 8 });
  const per = TCP_PACKETS / TCP_CONNECTIONS;
  const problems = await Promise.all(
    Array.from({ length: TCP_CONNECTIONS }, (_, c) => {
      const mine = packets.slice(c * per, (c + 1) * per);
      // Cluster answers (no upstream here) come back in order: the k-th reply answers the k-th owed packet.
      const requests = owed(mine);
      return new Promise<string[]>((resolve) => {
        const out: string[] = [];
        let got = 0;
        let buf = Buffer.alloc(0);
        const sock = net.connect({ host: ADDRESS, port: 53, localAddress: '127.50.0.1' });
        sock.on('error', (err) => resolve([...out, `connection ${c}: ${err.message}`]));
        sock.on('close', () => resolve(got === requests.length ? out : [...out, `connection ${c}: closed after ${got}/${requests.length} replies`]));
        sock.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const reply = buf.subarray(2, 2 + buf.readUInt16BE(0));
            buf = buf.subarray(2 + reply.length);
            const problem = requests[got] ? checkReply(reply, requests[got]!) : 'a reply too many';
            if (problem) out.push(`connection ${c} reply ${got}: ${problem}`);
            if (++got === requests.length) sock.end();
          }
        });
        sock.on('connect', () => {
          sock.write(Buffer.concat(mine.flatMap((p) => [Buffer.from([p.length >> 8, p.length & 0xff]), p])));
          if (requests.length === 0) sock.end();
        });
      });
    }),
  );
  expect(problems.flat()).toEqual([]);
}, 60_000);

it(`survives raw garbage on ${GARBAGE_CONNECTIONS} TCP connections`, async () => {
  const chunks = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { numRuns: GARBAGE_CONNECTIONS * 10, seed: 7 });
  await Promise.all(
    Array.from({ length: GARBAGE_CONNECTIONS }, (_, c) =>
      new Promise<void>((resolve) => {
        const sock = net.connect({ host: ADDRESS, port: 53, localAddress: '127.50.0.1' });
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        sock.on('data', () => {});
        sock.on('connect', () => {
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
