/**
 * Decoding: client queries (with miekg/dns's acceptance rules, so the same packets are
 * ignored, FORMERR'd or NOTIMP'd as by CoreDNS) and upstream replies (for forwarding checks
 * and the ExternalName chase). Never throws: every length is checked before it is read.
 */
import { Opcode, Rcode, RRType, type Question, type ResourceRecord } from './records.js';
import { HEADER_SIZE, FLAG_QR, type EdnsOption } from './wire-encode.js';
import { MAX_NAME_WIRE, readName } from './wire-name.js';

export interface Edns {
  udpSize: number;
  /** High 8 bits of the extended rcode, as sent. */
  extRcode: number;
  version: number;
  dnssecOk: boolean;
  /** The OPT record's option bytes in the packet: [optionsStart, optionsEnd). */
  optionsStart: number;
  optionsEnd: number;
}

/** A query's header, question position and EDNS, found without building any string. */
export interface ScannedQuery {
  id: number;
  flags: number;
  opcode: number;
  qtype: number;
  qclass: number;
  /** Offset just past the question name (the question starts at 12). */
  nameEnd: number;
  /** Offset just past QTYPE and QCLASS. */
  questionEnd: number;
  /** The question name used a compression pointer (legal, but then it cannot be re-spelled in place). */
  nameCompressed: boolean;
  edns: Edns | undefined;
}

export interface ParsedQuery extends ScannedQuery {
  question: Question;
  options: EdnsOption[];
}

export type QueryScan =
  /** Too short to answer, or a response (QR=1): no reply at all. */
  | { kind: 'ignore' }
  /** A header-only reply with this rcode (FORMERR or NOTIMP). */
  | { kind: 'reject'; rcode: number; id: number; flags: number }
  | { kind: 'query'; query: ScannedQuery };

export type QueryParse = Exclude<QueryScan, { kind: 'query' }> | { kind: 'query'; query: ParsedQuery };

const IGNORE = { kind: 'ignore' } as const;

/** The query path's parser: validates like miekg/dns and locates the parts. */
export function scanQuery(buf: Uint8Array): QueryScan {
  if (buf.length < HEADER_SIZE) return IGNORE;
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & FLAG_QR) return IGNORE;
  const opcode = (flags >> 11) & 0xf;
  // miekg/dns defaultMsgAcceptFunc, in its order.
  if (opcode !== Opcode.QUERY && opcode !== Opcode.NOTIFY) return { kind: 'reject', rcode: Rcode.NOTIMP, id, flags };
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  const formerr = { kind: 'reject', rcode: Rcode.FORMERR, id, flags } as const;
  if (u16(buf, 4) !== 1 || an > 1 || ns > 1 || ar > 2) return formerr;

  const nameEnd = skipName(buf, HEADER_SIZE);
  if (nameEnd < 0 || nameEnd + 4 > buf.length) return formerr;
  let nameCompressed = false;
  for (let p = HEADER_SIZE; buf[p]! !== 0; p += buf[p]! + 1) {
    if ((buf[p]! & 0xc0) !== 0) {
      nameCompressed = true;
      break;
    }
  }
  let off = nameEnd + 4;
  let edns: Edns | undefined;
  for (let i = 0; i < an + ns + ar; i++) {
    const ownerEnd = skipName(buf, off);
    if (ownerEnd < 0 || ownerEnd + 10 > buf.length) return formerr;
    const type = u16(buf, ownerEnd);
    const rdata = ownerEnd + 10;
    const end = rdata + u16(buf, ownerEnd + 8);
    if (end > buf.length) return formerr;
    if (type === RRType.OPT && i >= an + ns) {
      // One OPT, owned by the root, with well-formed options.
      if (edns || ownerEnd !== off + 1 || !optionsWellFormed(buf, rdata, end)) return formerr;
      edns = {
        udpSize: u16(buf, ownerEnd + 2),
        extRcode: buf[ownerEnd + 4]!,
        version: buf[ownerEnd + 5]!,
        dnssecOk: (buf[ownerEnd + 6]! & 0x80) !== 0,
        optionsStart: rdata,
        optionsEnd: end,
      };
    }
    off = end;
  }
  const query: ScannedQuery = {
    id,
    flags,
    opcode,
    qtype: u16(buf, nameEnd),
    qclass: u16(buf, nameEnd + 2),
    nameEnd,
    questionEnd: nameEnd + 4,
    nameCompressed,
    edns,
  };
  return { kind: 'query', query };
}

/** scanQuery plus the question name and the EDNS options as values. */
export function parseQuery(buf: Uint8Array): QueryParse {
  const scan = scanQuery(buf);
  if (scan.kind !== 'query') return scan;
  const q = scan.query;
  return { kind: 'query', query: { ...q, question: questionOf(buf, q), options: q.edns ? ednsOptions(buf, q.edns) : [] } };
}

/** The question of a scanned query (the name was validated by the scan). */
export function questionOf(buf: Uint8Array, q: ScannedQuery): Question {
  return { name: readName(buf, HEADER_SIZE)!.name, type: q.qtype, class: q.qclass };
}

export function ednsOptions(buf: Uint8Array, edns: Edns): EdnsOption[] {
  const out: EdnsOption[] = [];
  for (let off = edns.optionsStart; off < edns.optionsEnd; off += 4 + u16(buf, off + 2)) {
    out.push({ code: u16(buf, off), data: buf.slice(off + 4, off + 4 + u16(buf, off + 2)) });
  }
  return out;
}

function u16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

/** The offset after a name, or -1 if malformed (same rules as readName, no strings). */
function skipName(buf: Uint8Array, offset: number): number {
  let pos = offset;
  let end = -1;
  let wire = 1;
  let hops = 0;
  for (;;) {
    if (pos >= buf.length) return -1;
    const len = buf[pos]!;
    if (len === 0) return end < 0 ? pos + 1 : end;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) return -1;
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (target >= pos || ++hops > 127) return -1;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0 || pos + 1 + len > buf.length) return -1;
    wire += len + 1;
    if (wire > MAX_NAME_WIRE) return -1;
    pos += 1 + len;
  }
}

function optionsWellFormed(buf: Uint8Array, start: number, end: number): boolean {
  let off = start;
  while (off < end) {
    if (off + 4 > end) return false;
    off += 4 + u16(buf, off + 2);
    if (off > end) return false;
  }
  return true;
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

/**
 * Where a message's OPT record starts (its root owner byte), -1 when it has none, and
 * undefined when the message cannot be walked. For forwarded replies, whose OPT the engine
 * rewrites as CoreDNS's SizeAndDo does.
 */
export function findOpt(buf: Uint8Array): number | undefined {
  if (buf.length < HEADER_SIZE) return undefined;
  const qd = u16(buf, 4);
  const records = u16(buf, 6) + u16(buf, 8);
  const ar = u16(buf, 10);
  let off = HEADER_SIZE;
  for (let i = 0; i < qd; i++) {
    off = skipName(buf, off);
    if (off < 0 || off + 4 > buf.length) return undefined;
    off += 4;
  }
  for (let i = 0; i < records + ar; i++) {
    const ownerEnd = skipName(buf, off);
    if (ownerEnd < 0 || ownerEnd + 10 > buf.length) return undefined;
    if (i >= records && u16(buf, ownerEnd) === RRType.OPT && ownerEnd === off + 1) return off;
    off = ownerEnd + 10 + u16(buf, ownerEnd + 8);
    if (off > buf.length) return undefined;
  }
  return -1;
}
