/**
 * Decoding: client queries (with miekg/dns's acceptance rules, so the same packets are
 * ignored, FORMERR'd or NOTIMP'd as by CoreDNS) and upstream replies (for forwarding checks
 * and the ExternalName chase). Never throws: every length is checked before it is read.
 */
import { Opcode, Rcode, RRType, type Question, type ResourceRecord } from './records.js';
import { HEADER_SIZE, FLAG_QR, type EdnsOption } from './wire-encode.js';
import { readName } from './wire-name.js';

export interface Edns {
  udpSize: number;
  /** High 8 bits of the extended rcode, as sent. */
  extRcode: number;
  version: number;
  dnssecOk: boolean;
  options: EdnsOption[];
}

export interface ParsedQuery {
  id: number;
  flags: number;
  opcode: number;
  question: Question;
  /** Offset just past the question name (the question starts at 12). */
  nameEnd: number;
  /** Offset just past QTYPE and QCLASS. */
  questionEnd: number;
  /** The question name used a compression pointer (legal, but then it cannot be re-spelled in place). */
  nameCompressed: boolean;
  edns: Edns | undefined;
}

export type QueryParse =
  /** Too short to answer, or a response (QR=1): no reply at all. */
  | { kind: 'ignore' }
  /** A header-only reply with this rcode (FORMERR or NOTIMP). */
  | { kind: 'reject'; rcode: number; id: number; flags: number }
  | { kind: 'query'; query: ParsedQuery };

export function parseQuery(buf: Uint8Array): QueryParse {
  if (buf.length < HEADER_SIZE) return { kind: 'ignore' };
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & FLAG_QR) return { kind: 'ignore' };
  const opcode = (flags >> 11) & 0xf;
  // miekg/dns defaultMsgAcceptFunc, in its order.
  if (opcode !== Opcode.QUERY && opcode !== Opcode.NOTIFY) return { kind: 'reject', rcode: Rcode.NOTIMP, id, flags };
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  const formerr = { kind: 'reject', rcode: Rcode.FORMERR, id, flags } as const;
  if (qd !== 1 || an > 1 || ns > 1 || ar > 2) return formerr;

  const name = readName(buf, HEADER_SIZE);
  if (!name || name.end + 4 > buf.length) return formerr;
  const question: Question = { name: name.name, type: u16(buf, name.end), class: u16(buf, name.end + 2) };
  let nameCompressed = false;
  for (let p = HEADER_SIZE; p < name.end; p += buf[p]! + 1) {
    if ((buf[p]! & 0xc0) === 0xc0) {
      nameCompressed = true;
      break;
    }
  }
  let off = name.end + 4;
  let edns: Edns | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    const rr = skipRecord(buf, off);
    if (!rr) return formerr;
    if (rr.type === RRType.OPT && i >= an + ns) {
      if (edns || !rr.rootOwner) return formerr;
      const options = readOptions(buf, rr.rdata, rr.end);
      if (!options) return formerr;
      edns = {
        udpSize: rr.class,
        extRcode: buf[rr.ttlAt]!,
        version: buf[rr.ttlAt + 1]!,
        dnssecOk: (buf[rr.ttlAt + 2]! & 0x80) !== 0,
        options,
      };
    }
    off = rr.end;
  }
  return {
    kind: 'query',
    query: { id, flags, opcode, question, nameEnd: name.end, questionEnd: name.end + 4, nameCompressed, edns },
  };
}

function u16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

function skipRecord(
  buf: Uint8Array,
  off: number,
): { type: number; class: number; ttlAt: number; rdata: number; end: number; rootOwner: boolean } | undefined {
  const owner = readName(buf, off);
  if (!owner || owner.end + 10 > buf.length) return undefined;
  const p = owner.end;
  const rdlen = u16(buf, p + 8);
  const end = p + 10 + rdlen;
  if (end > buf.length) return undefined;
  return { type: u16(buf, p), class: u16(buf, p + 2), ttlAt: p + 4, rdata: p + 10, end, rootOwner: owner.name === '' };
}

function readOptions(buf: Uint8Array, start: number, end: number): EdnsOption[] | undefined {
  const out: EdnsOption[] = [];
  let off = start;
  while (off < end) {
    if (off + 4 > end) return undefined;
    const code = u16(buf, off);
    const len = u16(buf, off + 2);
    if (off + 4 + len > end) return undefined;
    out.push({ code, data: buf.slice(off + 4, off + 4 + len) });
    off += 4 + len;
  }
  return out;
}

export interface DecodedMessage {
  id: number;
  flags: number;
  rcode: number;
  questions: Question[];
  answer: ResourceRecord[];
}

/**
 * A whole message's question and answer sections (authority and additional are not needed
 * by any caller). A/AAAA/CNAME/NS/PTR/SRV data is decoded; other data is kept raw.
 */
export function decodeMessage(buf: Uint8Array): DecodedMessage | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  let off = HEADER_SIZE;
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(buf, off);
    if (!name || name.end + 4 > buf.length) return undefined;
    questions.push({ name: name.name, type: u16(buf, name.end), class: u16(buf, name.end + 2) });
    off = name.end + 4;
  }
  const answer: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) {
    const owner = readName(buf, off);
    if (!owner || owner.end + 10 > buf.length) return undefined;
    const p = owner.end;
    const type = u16(buf, p);
    const rdlen = u16(buf, p + 8);
    const rdata = p + 10;
    const end = rdata + rdlen;
    if (end > buf.length) return undefined;
    const base = { name: owner.name, type, class: u16(buf, p + 2), ttl: readU32(buf, p + 4) };
    if ((type === RRType.A && rdlen === 4) || (type === RRType.AAAA && rdlen === 16)) {
      answer.push({ ...base, data: { kind: 'address', bytes: buf.slice(rdata, end) } });
    } else if (type === RRType.CNAME || type === RRType.NS || type === RRType.PTR) {
      const target = readName(buf, rdata);
      if (!target || target.end > end) return undefined;
      answer.push({ ...base, data: { kind: 'name', target: target.name } });
    } else if (type === RRType.SRV && rdlen > 6) {
      const target = readName(buf, rdata + 6);
      if (!target || target.end > end) return undefined;
      const [priority, weight, port] = [u16(buf, rdata), u16(buf, rdata + 2), u16(buf, rdata + 4)];
      answer.push({ ...base, data: { kind: 'srv', priority, weight, port, target: target.name } });
    } else {
      answer.push({ ...base, data: { kind: 'raw', bytes: buf.slice(rdata, end) } });
    }
    off = end;
  }
  const flags = u16(buf, 2);
  return { id: u16(buf, 0), flags, rcode: flags & 0xf, questions, answer };
}

function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}
