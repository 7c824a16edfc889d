/**
 * Cache of encoded responses, so a hot question costs a map lookup and a buffer copy instead
 * of an answer computation and an encode.
 *
 * Key: the question name's wire bytes lower-cased (ASCII), plus QTYPE and QCLASS, found by
 * its 32-bit hash (no string is built per query) and compared byte for byte. One entry
 * holds the full encoding and, lazily, truncated encodings per byte budget (the budget is
 * the client's UDP size less its OPT record; TCP's is 65535), so EDNS variants share it.
 *
 * Spelling: entries are encoded from the question spelled in UPPER case. Kubernetes names,
 * the configured zone and ExternalName targets are lower case, so upper-case text in an
 * encoding can only come from the question; it sits in the question itself, behind
 * compression pointers into it, or in the `patches` the encoder noted. Copying the client's
 * question bytes over those places re-spells the whole response as CoreDNS would have
 * (owners and zone in the client's case, object names in lower case).
 *
 * Invalidation: an entry stores the version of each dependency key its answer read
 * (record-index.ts) and is used only while all are unchanged (looked up again only when the
 * index's generation moved since the entry was last checked). Nothing is flushed eagerly;
 * stale entries are replaced on their next miss or evicted oldest-first when the cache is full.
 */
import type { Reply } from './answer.js';
import type { DependencyVersions } from './record-index.js';
import type { Question } from './records.js';
import { encodeMessage, FLAG_AA, FLAG_QR, type Encoded } from './wire-encode.js';
import { lowerAsciiInto } from './wire-name.js';

export interface CacheEntry {
  /** The question's key bytes (see readKey). */
  key: Uint8Array;
  question: Question;
  reply: Reply;
  deps: string[];
  versions: number[];
  /** The index generation at which the versions were last found unchanged. */
  checkedAt: number;
  full: Encoded;
  truncated: Map<number, Encoded>;
}

const MAX_VARIANTS = 8;
/** The key of the question being looked up or stored (a name is at most 255 bytes). */
const keyScratch = new Uint8Array(260);

/**
 * Writes the key of the packet's question into keyScratch: name bytes [12, nameEnd)
 * lower-cased, then QTYPE/QCLASS raw. Returns its length. Only for uncompressed names.
 */
function readKey(packet: Uint8Array, nameEnd: number): number {
  const n = nameEnd - 12;
  lowerAsciiInto(packet, 12, nameEnd, keyScratch);
  keyScratch[n] = packet[nameEnd]!;
  keyScratch[n + 1] = packet[nameEnd + 1]!;
  keyScratch[n + 2] = packet[nameEnd + 2]!;
  keyScratch[n + 3] = packet[nameEnd + 3]!;
  return n + 4;
}

/** FNV-1a over keyScratch[0, len): a small-integer map key, cheaper than building a string per query. */
function hashKey(len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ keyScratch[i]!, 0x01000193);
  return h >>> 0;
}

function sameKey(key: Uint8Array, len: number): boolean {
  if (key.length !== len) return false;
  for (let i = 0; i < len; i++) if (key[i] !== keyScratch[i]) return false;
  return true;
}

export class ResponseCache {
  /**
   * By key hash. Two questions with the same hash (rare at 32 bits) take turns in one slot:
   * the key bytes are compared, so the other just misses.
   */
  private readonly entries = new Map<number, CacheEntry>();

  constructor(
    private readonly versions: DependencyVersions,
    private readonly maxEntries = 20_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /** A still-valid entry for the packet's question (uncompressed name ending at nameEnd), or undefined. */
  lookup(packet: Uint8Array, nameEnd: number): CacheEntry | undefined {
    const len = readKey(packet, nameEnd);
    const e = this.entries.get(hashKey(len));
    if (!e || !sameKey(e.key, len)) return undefined;
    // Nothing changed since the last check (the usual case): no per-dependency lookups.
    const generation = this.versions.generation();
    if (e.checkedAt === generation) return e;
    for (let i = 0; i < e.deps.length; i++) {
      if (this.versions.version(e.deps[i]!) !== e.versions[i]) return undefined;
    }
    e.checkedAt = generation;
    return e;
  }

  /** Caches the answer to the packet's question (uncompressed name ending at nameEnd). */
  store(packet: Uint8Array, nameEnd: number, question: Question, reply: Reply, full: Encoded): CacheEntry {
    const len = readKey(packet, nameEnd);
    const hash = hashKey(len);
    const entry: CacheEntry = {
      key: keyScratch.slice(0, len),
      question,
      reply,
      deps: reply.deps,
      versions: reply.deps.map((d) => this.versions.version(d)),
      checkedAt: this.versions.generation(),
      full,
      truncated: new Map(),
    };
    if (!this.entries.delete(hash) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hash, entry);
    return entry;
  }

  /** The entry's encoding for a budget: the full one if it fits, else a truncated one. */
  static bodyFor(entry: CacheEntry, budget: number): Encoded {
    if (entry.full.bytes.length <= budget) return entry.full;
    let enc = entry.truncated.get(budget);
    if (!enc) {
      enc = encodeReply(entry.question, entry.reply, budget);
      if (entry.truncated.size < MAX_VARIANTS) entry.truncated.set(budget, enc);
    }
    return enc;
  }
}

/** Encodes a reply (without OPT) for a budget; ID 0 and request flags are patched per response. */
export function encodeReply(question: Question, reply: Reply, budget: number): Encoded {
  return encodeMessage({
    id: 0,
    flags: FLAG_QR | (reply.aa ? FLAG_AA : 0) | (reply.rcode & 0xf),
    question,
    answer: reply.answer,
    authority: reply.authority,
    additional: reply.additional,
    budget,
  });
}

/** ASCII upper case of presentation text (escapes are digits and punctuation: unaffected). */
export function upperAscii(text: string): string {
  return text.toUpperCase();
}
