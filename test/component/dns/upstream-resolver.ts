/**
 * A tiny authoritative-ish resolver for forwarding tests (UDP and TCP), built on the DNS
 * codec. It answers a fixed table, never answers `slow.*`, and counts what it was asked.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Rcode, RRClass, RRType, type ResourceRecord } from '../../../dns/records.js';
import { parseQuery } from '../../../dns/wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_QR, FLAG_RA, FLAG_RD } from '../../../dns/wire-encode.js';

export interface UpstreamResolver {
  address: string;
  port: number;
  asked: Array<{ name: string; type: number; transport: 'udp' | 'tcp' }>;
  close(): Promise<void>;
}

const a = (name: string, ip: string, ttl = 300): ResourceRecord => ({
  name,
  type: RRType.A,
  class: RRClass.IN,
  ttl,
  data: { kind: 'address', bytes: Uint8Array.from(ip.split('.').map(Number)) },
});

function table(name: string, type: number): ResourceRecord[] | undefined {
  const n = name.toLowerCase();
  if ((n === 'example.test' || n === 'opt.example.test') && type === RRType.A) return [a(name, '192.0.2.1')];
  if (n === 'foo.example.com' && type === RRType.A) return [a(name, '192.0.2.10', 120)];
  if (n === 'big.example.test' && type === RRType.A) return Array.from({ length: 100 }, (_, i) => a(name, `198.51.100.${i + 1}`));
  if (n === '9.9.9.10.in-addr.arpa' && type === RRType.PTR) {
    return [{ name, type: RRType.PTR, class: RRClass.IN, ttl: 60, data: { kind: 'name', target: 'upstream-ptr.example' } }];
  }
  if (n === 'version.bind' && type === RRType.TXT) {
    return [{ name, type: RRType.TXT, class: RRClass.CH, ttl: 0, data: { kind: 'txt', texts: ['test-upstream'] } }];
  }
  return undefined;
}

function respond(packet: Buffer, budget: number): Buffer | null {
  const p = parseQuery(packet);
  if (p.kind !== 'query') return null;
  const q = p.query.question;
  if (q.name.toLowerCase().startsWith('slow.')) return null;
  const answer = table(q.name, q.type);
  const reply = encodeMessage({
    id: p.query.id,
    flags: FLAG_QR | FLAG_RA | (p.query.flags & FLAG_RD) | (answer ? Rcode.NOERROR : Rcode.NXDOMAIN),
    question: q,
    answer: answer ?? [],
    authority: [],
    additional: [],
    budget,
  }).bytes;
  // `opt.*` names get an OPT of the resolver's own (as unbound and BIND send); others none.
  if (!q.name.toLowerCase().startsWith('opt.') || !p.query.edns) return reply;
  const out = Buffer.concat([reply, encodeOpt(4096, 0, false, [])]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

export async function startUpstreamResolver(address: string, port = 53): Promise<UpstreamResolver> {
  const asked: UpstreamResolver['asked'] = [];
  const note = (packet: Buffer, transport: 'udp' | 'tcp') => {
    const p = parseQuery(packet);
    if (p.kind === 'query') asked.push({ name: p.query.question.name, type: p.query.question.type, transport });
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    note(msg, 'udp');
    const p = parseQuery(msg);
    const size = p.kind === 'query' && p.query.edns ? Math.max(512, p.query.edns.udpSize) : 512;
    const out = respond(msg, size);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(port, address, () => r()));
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        note(msg, 'tcp');
        const out = respond(msg, 65535);
        if (!out) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        sock.write(Buffer.concat([len, out]));
      }
    });
  });
  await new Promise<void>((r) => tcp.listen(port, address, () => r()));
  return {
    address,
    port,
    asked,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
