/**
 * Response encoding: header, question and records with name compression, cut at a byte
 * budget like miekg/dns Msg.Truncate (records kept answer → authority → additional while
 * they fit; the first one that does not fit ends the message and sets TC).
 *
 * Compression is case-sensitive on the name text, and SRV targets are written literally (as
 * miekg/dns does: RFC 2782) while still offering their suffixes to later names.
 *
 * For the response cache the encoder also reports:
 *  - `patches`: places where a suffix of the question name was written literally (only in
 *    SRV targets), so a cached response encoded for one spelling of the question can be
 *    re-spelled for another by copying the client's question bytes (see response-cache.ts);
 *  - `runs`: stretches of A/AAAA records with pointer owners and equal length, which can be
 *    shuffled byte-wise per response (CoreDNS's loadbalance plugin).
 */
import { RRType, type Question, type ResourceRecord } from './records.js';
import { splitName } from './wire-name.js';

export const HEADER_SIZE = 12;
export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_AD = 0x0020;
export const FLAG_CD = 0x0010;

export interface EncodeInput {
  id: number;
  /** The header's second word: QR, opcode, AA, TC, RD, RA, AD, CD and the low 4 rcode bits. */
  flags: number;
  question?: Question;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** Largest message allowed, before any OPT record is appended. */
  budget: number;
}

export interface Encoded {
  bytes: Buffer;
  truncated: boolean;
  /** Triples [offset, length, questionOffset]: bytes equal to question-name bytes. */
  patches: number[];
  /** Triples [offset, count, recordSize]: shuffleable runs of address records. */
  runs: number[];
}

/** Scratch space for one message; encoding is synchronous, so one buffer serves all. */
const scratch = Buffer.alloc(2 * 65536);

class Writer {
  off = HEADER_SIZE;
  readonly compression = new Map<string, number>();
  /** Suffix text of the question name → its offset, for case patches. */
  readonly questionSuffixes = new Map<string, number>();
  readonly patches: number[] = [];

  u8(v: number): void {
    scratch[this.off++] = v;
  }
  u16(v: number): void {
    scratch.writeUInt16BE(v & 0xffff, this.off);
    this.off += 2;
  }
  u32(v: number): void {
    scratch.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }
  bytes(b: Uint8Array): void {
    scratch.set(b, this.off);
    this.off += b.length;
  }

  name(text: string, compress: boolean, isQuestion = false): void {
    const split = splitName(text);
    if (!split) throw new Error(`cannot encode name ${JSON.stringify(text)}`);
    const { labels, starts } = split;
    for (let i = 0; i < labels.length; i++) {
      const suffix = text.slice(starts[i]);
      const ptr = this.compression.get(suffix);
      if (ptr !== undefined && compress) {
        this.u16(0xc000 | ptr);
        return;
      }
      const q = isQuestion ? undefined : this.questionSuffixes.get(suffix);
      if (q !== undefined) {
        // A literal copy of question text (an SRV target's zone): note it for re-spelling.
        this.patches.push(this.off, wireLength(labels, i), q);
        for (let j = i; j < labels.length; j++) this.label(labels[j]!);
        this.u8(0);
        return;
      }
      if (ptr === undefined && this.off < 0x4000) this.compression.set(suffix, this.off);
      if (isQuestion) this.questionSuffixes.set(suffix, this.off);
      this.label(labels[i]!);
    }
    this.u8(0);
  }

  private label(l: Uint8Array): void {
    this.u8(l.length);
    this.bytes(l);
  }

  record(rr: ResourceRecord): void {
    this.name(rr.name, true);
    this.u16(rr.type);
    this.u16(rr.class);
    this.u32(rr.ttl);
    const lenAt = this.off;
    this.off += 2;
    const d = rr.data;
    switch (d.kind) {
      case 'address':
      case 'raw':
        this.bytes(d.bytes);
        break;
      case 'name':
        this.name(d.target, true);
        break;
      case 'srv':
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        this.name(d.target, false);
        break;
      case 'txt':
        for (const t of d.texts) {
          const b = Buffer.from(t, 'latin1');
          for (let i = 0; i < b.length || i === 0; i += 255) {
            const chunk = b.subarray(i, i + 255);
            this.u8(chunk.length);
            this.bytes(chunk);
          }
        }
        break;
      case 'soa':
        this.name(d.mname, true);
        this.name(d.rname, true);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        break;
    }
    scratch.writeUInt16BE(this.off - lenAt - 2, lenAt);
  }
}

function wireLength(labels: Uint8Array[], from: number): number {
  let n = 1;
  for (let i = from; i < labels.length; i++) n += labels[i]!.length + 1;
  return n;
}

export function encodeMessage(input: EncodeInput): Encoded {
  const w = new Writer();
  const budget = Math.min(input.budget, 65535);
  let qd = 0;
  if (input.question) {
    w.name(input.question.name, false, true);
    w.u16(input.question.type);
    w.u16(input.question.class);
    qd = 1;
  }
  const counts = [0, 0, 0];
  const runs: number[] = [];
  let truncated = false;
  const sections = [input.answer, input.authority, input.additional];
  outer: for (let s = 0; s < 3; s++) {
    let runStart = -1;
    let runCount = 0;
    let runSize = 0;
    const closeRun = () => {
      if (runCount >= 2) runs.push(runStart, runCount, runSize);
      runStart = -1;
      runCount = 0;
    };
    for (const rr of sections[s]!) {
      const start = w.off;
      const patchCount = w.patches.length;
      w.record(rr);
      if (w.off > budget) {
        w.off = start;
        w.patches.length = patchCount;
        truncated = true;
        closeRun();
        break outer;
      }
      counts[s]!++;
      const size = w.off - start;
      const shuffleable = (rr.type === RRType.A || rr.type === RRType.AAAA) && (scratch[start]! & 0xc0) === 0xc0;
      if (shuffleable && runCount > 0 && size === runSize && runStart + runCount * runSize === start) runCount++;
      else {
        closeRun();
        if (shuffleable) {
          runStart = start;
          runCount = 1;
          runSize = size;
        }
      }
    }
    closeRun();
  }
  scratch.writeUInt16BE(input.id & 0xffff, 0);
  scratch.writeUInt16BE((input.flags | (truncated ? FLAG_TC : 0)) & 0xffff, 2);
  scratch.writeUInt16BE(qd, 4);
  scratch.writeUInt16BE(counts[0]!, 6);
  scratch.writeUInt16BE(counts[1]!, 8);
  scratch.writeUInt16BE(counts[2]!, 10);
  return { bytes: Buffer.from(scratch.subarray(0, w.off)), truncated, patches: w.patches, runs };
}

export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

/** An OPT pseudo-record (RFC 6891): root owner, class = UDP size, TTL = ext-rcode/version/DO. */
export function encodeOpt(udpSize: number, extRcode: number, dnssecOk: boolean, options: readonly EdnsOption[]): Buffer {
  let rdlen = 0;
  for (const o of options) rdlen += 4 + o.data.length;
  const b = Buffer.alloc(11 + rdlen);
  b[0] = 0;
  b.writeUInt16BE(RRType.OPT, 1);
  b.writeUInt16BE(udpSize & 0xffff, 3);
  b[5] = extRcode & 0xff;
  b[6] = 0; // version 0
  b.writeUInt16BE(dnssecOk ? 0x8000 : 0, 7);
  b.writeUInt16BE(rdlen, 9);
  let off = 11;
  for (const o of options) {
    b.writeUInt16BE(o.code, off);
    b.writeUInt16BE(o.data.length, off + 2);
    b.set(o.data, off + 4);
    off += 4 + o.data.length;
  }
  return b;
}
