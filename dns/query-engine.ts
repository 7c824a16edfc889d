/**
 * One query in, one response out (or none), for both transports: acceptance rules, EDNS,
 * the response cache, the answer core, forwarding and the ExternalName chase. The sockets
 * live in udp-listener.ts / tcp-listener.ts.
 *
 * Hot path (cache hit): parse the header and question, build the key, check the entry's
 * dependency versions, copy the encoded body, patch ID/flags/spelling, shuffle address
 * records, append the OPT record. No answer computation, no encoding.
 */
import { answer, completeChase, type AnswerConfig, type Reply } from './answer.js';
import type { DnsStats } from './dns-stats.js';
import type { Upstream } from './forwarder.js';
import { formatQueryLog } from './query-log.js';
import type { DependencyVersions, RecordView } from './record-index.js';
import { Rcode, type Question } from './records.js';
import { encodeReply, ResponseCache, upperAscii, type CacheEntry } from './response-cache.js';
import { findOpt, questionOf, scanQuery, type Edns, type ScannedQuery } from './wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_AD, FLAG_CD, FLAG_QR, FLAG_RD, FLAG_TC, type Encoded } from './wire-encode.js';

export type Transport = 'udp' | 'tcp';
export interface Peer {
  address: string;
  port: number;
}

/** EDNS options CoreDNS copies from the query into the reply (request/edns0.go). */
const ECHOED_OPTIONS = new Set([3 /* NSID */, 9 /* EXPIRE */, 10 /* COOKIE */, 11 /* TCP-KEEPALIVE */, 12 /* PADDING */]);
const OPCODE_MASK = 0x7800;
const TCP_LIMIT = 65535;
const UDP_MIN = 512;
/** The largest payload a UDP datagram over IPv4 carries: a longer reply could not be sent at all. */
const UDP_MAX = 65507;

export interface QueryEngineOptions {
  view: RecordView & DependencyVersions;
  answerConfig: AnswerConfig;
  stats: DnsStats;
  upstream?: Upstream;
  cacheSize?: number;
  /** Shuffle A/AAAA records per response, as kubeadm's `loadbalance` does. */
  shuffle?: boolean;
  /** Called with one readable line per query (CoreDNS log plugin format). */
  queryLog?: (line: string) => void;
}

export class QueryEngine {
  readonly cache: ResponseCache;
  private readonly shuffle: boolean;

  constructor(private readonly opts: QueryEngineOptions) {
    this.cache = new ResponseCache(opts.view, opts.cacheSize);
    this.shuffle = opts.shuffle ?? true;
  }

  /** The response to one packet, null for none. Cluster answers return synchronously. */
  handle(packet: Buffer, transport: Transport, peer?: Peer): Buffer | null | Promise<Buffer | null> {
    const started = this.opts.queryLog ? process.hrtime.bigint() : 0n;
    let out: Buffer | null | Promise<Buffer | null>;
    try {
      out = this.respond(packet, transport);
    } catch {
      // Never let one packet take the server down; count it as dropped.
      this.opts.stats.dropped++;
      return null;
    }
    if (out instanceof Promise) {
      out = out.catch(() => {
        this.opts.stats.dropped++;
        return null;
      });
    }
    if (!this.opts.queryLog) return out;
    if (out instanceof Promise) return out.then((r) => (this.log(packet, r, transport, peer, started), r));
    this.log(packet, out, transport, peer, started);
    return out;
  }

  private respond(packet: Buffer, transport: Transport): Buffer | null | Promise<Buffer | null> {
    const stats = this.opts.stats;
    const parsed = scanQuery(packet);
    if (parsed.kind === 'ignore') {
      stats.dropped++;
      return null;
    }
    if (parsed.kind === 'reject') {
      stats.countResponse(parsed.rcode);
      return headerOnly(parsed.id, parsed.flags, parsed.rcode);
    }
    const q = parsed.query;
    stats.countQuery(q.qtype, transport);
    const edns = q.edns;
    if (edns && edns.version > 0) return this.badVersion(packet, q);
    // The size in force is CoreDNS's request.Size(): 64 KiB over TCP, else the client's
    // advertised size floored at 512 (512 without EDNS); no server maximum, as kubeadm's
    // Corefile has no bufsize plugin, beyond what one datagram can carry.
    const limit = transport === 'tcp' ? TCP_LIMIT : edns ? Math.min(UDP_MAX, Math.max(UDP_MIN, edns.udpSize)) : UDP_MIN;
    const budget = limit - (edns ? optLength(packet, edns) : 0);

    if (!q.nameCompressed) {
      const hit = this.cache.lookup(packet, q.nameEnd);
      if (hit) {
        stats.cacheHits++;
        return this.finish(packet, q, ResponseCache.bodyFor(hit, budget));
      }
    }
    stats.cacheMisses++;

    // Spelled in upper case so the encoding can be re-spelled per client (response-cache.ts);
    // a compressed question name cannot be copied over ours, so it is answered as spelled.
    const name = questionOf(packet, q).name;
    const question: Question = { name: q.nameCompressed ? name : upperAscii(name), type: q.qtype, class: q.qclass };
    let body: Encoded;
    try {
      const res = answer(question, this.opts.view, this.opts.answerConfig);
      if (res.kind === 'forward') return this.forward(packet, q, transport);
      if (res.chase) return this.chase(packet, q, question, res, budget);
      if (res.cacheable && !q.nameCompressed) {
        const entry: CacheEntry = this.cache.store(packet, q.nameEnd, question, res, encodeReply(question, res, TCP_LIMIT));
        body = ResponseCache.bodyFor(entry, budget);
      } else {
        body = encodeReply(question, res, budget);
      }
    } catch {
      // An answer that cannot be encoded (a generated name over 255 bytes): fail this query only.
      return this.errorReply(packet, q, Rcode.SERVFAIL);
    }
    return this.finish(packet, q, body);
  }

  /** Copies a body and makes it this query's response. */
  private finish(packet: Buffer, q: ScannedQuery, body: Encoded): Buffer {
    const src = body.bytes;
    const optLen = q.edns ? optLength(packet, q.edns) : 0;
    const out = Buffer.allocUnsafe(src.length + optLen);
    // Byte loops and TypedArray#set rather than Buffer#copy/readUInt16BE: these few bytes are
    // the whole per-query work on a cache hit, and Buffer's helpers validate on every call.
    out.set(src);
    out[0] = packet[0]!;
    out[1] = packet[1]!;
    const flags = (((src[2]! << 8) | src[3]!) & ~(OPCODE_MASK | FLAG_RD | FLAG_CD)) | (q.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD));
    out[2] = flags >> 8;
    out[3] = flags & 0xff;
    if (!q.nameCompressed) {
      // Re-spell: the question, and literal copies of its text (compression pointers follow).
      copyBytes(packet, 12, q.nameEnd, out, 12);
      const p = body.patches;
      for (let i = 0; i < p.length; i += 3) copyBytes(packet, p[i + 2]!, p[i + 2]! + p[i + 1]!, out, p[i]!);
    }
    if (this.shuffle && body.runs.length > 0) shuffleRuns(out, src, body.runs);
    if (q.edns) {
      writeOpt(out, src.length, packet, q.edns);
      out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    }
    this.opts.stats.countResponse(flags & 0xf);
    if (flags & FLAG_TC) this.opts.stats.truncated++;
    return out;
  }

  /**
   * EDNS version > 0: BADVERS (16) in the OPT's extended rcode (coredns plugin/pkg/edns). The
   * OPT is a fresh one, written before CoreDNS's scrub writer could reflect the client's size
   * into it, so its UDP size is 0.
   */
  private badVersion(packet: Buffer, q: ScannedQuery): Buffer {
    const flags = FLAG_QR | (q.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD));
    const question = questionOf(packet, q);
    const enc = encodeMessage({ id: q.id, flags, question, answer: [], authority: [], additional: [], budget: TCP_LIMIT });
    const opt = encodeOpt(0, Rcode.BADVERS >> 4, false, []);
    const out = Buffer.concat([enc.bytes, opt]);
    out.writeUInt16BE(1, 10);
    this.opts.stats.countResponse(Rcode.BADVERS);
    return out;
  }

  /** SERVFAIL/REFUSED written by the server itself: question, no aa, OPT if asked. */
  private errorReply(packet: Buffer, q: ScannedQuery, rcode: number): Buffer {
    const flags = FLAG_QR | (q.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | rcode;
    const question = questionOf(packet, q);
    const enc = encodeMessage({ id: q.id, flags, question, answer: [], authority: [], additional: [], budget: TCP_LIMIT });
    this.opts.stats.countResponse(rcode);
    if (!q.edns) return enc.bytes;
    const out = Buffer.alloc(enc.bytes.length + optLength(packet, q.edns));
    enc.bytes.copy(out);
    writeOpt(out, enc.bytes.length, packet, q.edns);
    out.writeUInt16BE(1, 10);
    return out;
  }

  private async forward(packet: Buffer, q: ScannedQuery, transport: Transport): Promise<Buffer | null> {
    const upstream = this.opts.upstream;
    if (!upstream) return this.errorReply(packet, q, Rcode.REFUSED);
    this.opts.stats.forwarded++;
    const r = await upstream.forward(packet, transport === 'tcp');
    if (r === 'busy') return this.errorReply(packet, q, Rcode.REFUSED);
    if (r === 'timeout') {
      this.opts.stats.forwardFailures++;
      return this.errorReply(packet, q, Rcode.SERVFAIL);
    }
    this.opts.stats.countResponse(r.readUInt16BE(2) & 0xf);
    return q.edns ? withClientOpt(r, packet, q.edns) : r;
  }

  private async chase(
    packet: Buffer,
    q: ScannedQuery,
    question: Question,
    reply: Reply,
    budget: number,
  ): Promise<Buffer | null> {
    const target = reply.chase!;
    const records = this.opts.upstream ? await this.opts.upstream.lookup(target.name, target.type) : [];
    return this.finish(packet, q, encodeReply(question, completeChase(reply, records), budget));
  }

  private log(packet: Buffer, response: Buffer | null, transport: Transport, peer: Peer | undefined, started: bigint): void {
    const line = formatQueryLog(packet, response, transport, peer, process.hrtime.bigint() - started);
    if (line) this.opts.queryLog!(line);
  }
}

/** Size of our OPT record for a query's EDNS: 11 bytes plus the options we echo. */
function optLength(packet: Buffer, edns: Edns): number {
  let n = 11;
  for (let off = edns.optionsStart; off < edns.optionsEnd; ) {
    const len = 4 + packet.readUInt16BE(off + 2);
    if (ECHOED_OPTIONS.has(packet.readUInt16BE(off))) n += len;
    off += len;
  }
  return n;
}

/**
 * Writes the reply's OPT at `at` as CoreDNS's SizeAndDo does (request/request.go): the
 * request's own OPT reused, so the client's advertised UDP size as sent (below 512 too:
 * the floor applies to the size in force, not to what the OPT says), version 0, the
 * client's DO bit, the options CoreDNS echoes.
 */
function writeOpt(out: Buffer, at: number, packet: Buffer, edns: Edns): void {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(edns.udpSize, at + 3);
  out.writeUInt32BE(edns.dnssecOk ? 0x8000 : 0, at + 5);
  let w = at + 11;
  for (let off = edns.optionsStart; off < edns.optionsEnd; ) {
    const len = 4 + packet.readUInt16BE(off + 2);
    if (ECHOED_OPTIONS.has(packet.readUInt16BE(off))) w += packet.copy(out, w, off, off + len);
    off += len;
  }
  out.writeUInt16BE(w - at - 11, at + 9);
}

/**
 * A forwarded reply's OPT as SizeAndDo leaves an OPT the reply already has: the client's UDP
 * size, version 0, the low flag bits cleared, DO added if the client set it, the upstream's
 * options and extended rcode kept; an upstream that sent none gets the request's appended.
 */
function withClientOpt(reply: Buffer, packet: Buffer, edns: Edns): Buffer {
  const at = findOpt(reply);
  if (at === undefined) return reply;
  if (at >= 0) {
    reply.writeUInt16BE(edns.udpSize, at + 3);
    reply[at + 6] = 0;
    if (edns.dnssecOk) reply[at + 7] = reply[at + 7]! | 0x80;
    reply[at + 8] = 0;
    return reply;
  }
  const out = Buffer.alloc(reply.length + optLength(packet, edns));
  reply.copy(out);
  writeOpt(out, reply.length, packet, edns);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** FORMERR / NOTIMP: header only, ID and RD/TC/AD/CD echoed (miekg/dns SetRcodeFormatError). */
function headerOnly(id: number, reqFlags: number, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  const opcode = rcode === Rcode.NOTIMP ? reqFlags & OPCODE_MASK : 0;
  out.writeUInt16BE(FLAG_QR | opcode | (reqFlags & (FLAG_RD | FLAG_TC | FLAG_AD | FLAG_CD)) | rcode, 2);
  return out;
}

/** src[from, to) → dst at `at`; names are tens of bytes, where a loop beats Buffer#copy. */
function copyBytes(src: Uint8Array, from: number, to: number, dst: Uint8Array, at: number): void {
  for (let i = from; i < to; i++) dst[at++] = src[i]!;
}

const order = new Uint16Array(65536 / 16);

/** Fisher–Yates over each run of equal-size address records, reading from the original body. */
function shuffleRuns(out: Buffer, src: Buffer, runs: number[]): void {
  for (let r = 0; r < runs.length; r += 3) {
    const start = runs[r]!;
    const count = Math.min(runs[r + 1]!, order.length);
    const size = runs[r + 2]!;
    if (count < 2) continue;
    for (let i = 0; i < count; i++) order[i] = i;
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let i = 0; i < count; i++) copyBytes(src, start + order[i]! * size, start + (order[i]! + 1) * size, out, start + i * size);
  }
}
