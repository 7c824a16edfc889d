/**
 * Domain names on the wire: reading (with compression pointers, loop-safe) into the
 * presentation text of records.ts, and the escape-aware split of that text into labels.
 */

export const MAX_NAME_WIRE = 255;

/** Reads a name at offset. Returns the text and the offset after it, or undefined if malformed. */
export function readName(buf: Uint8Array, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let wire = 1;
  let hops = 0;
  for (;;) {
    if (pos >= buf.length) return undefined;
    const len = buf[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const top = len & 0xc0;
    if (top === 0xc0) {
      if (pos + 1 >= buf.length) return undefined;
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (end < 0) end = pos + 2;
      // Pointers must go backwards; with a hop cap this rules out loops.
      if (target >= pos || ++hops > 127) return undefined;
      pos = target;
      continue;
    }
    if (top !== 0) return undefined; // extended / binary labels
    if (pos + 1 + len > buf.length) return undefined;
    wire += len + 1;
    if (wire > MAX_NAME_WIRE) return undefined;
    labels.push(labelText(buf, pos + 1, len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** A label as text: printable ASCII stays, '.' and '\\' are escaped, other bytes become \DDD. */
function labelText(buf: Uint8Array, start: number, len: number): string {
  let plain = true;
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('latin1');
  let out = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c === 0x2e || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c <= 0x20 || c >= 0x7f) out += '\\' + String(c).padStart(3, '0');
    else out += String.fromCharCode(c);
  }
  return out;
}

/**
 * Splits presentation text into wire labels. `starts[i]` is where label i begins in the
 * text, so `name.slice(starts[i])` is the text of the suffix from that label on.
 */
export function splitName(name: string): { labels: Uint8Array[]; starts: number[] } | undefined {
  if (name === '') return { labels: [], starts: [] };
  const labels: Uint8Array[] = [];
  const starts: number[] = [];
  if (!name.includes('\\')) {
    let start = 0;
    for (;;) {
      const dot = name.indexOf('.', start);
      const text = dot < 0 ? name.slice(start) : name.slice(start, dot);
      if (text.length === 0 || text.length > 63) return undefined;
      labels.push(Buffer.from(text, 'latin1'));
      starts.push(start);
      if (dot < 0) break;
      start = dot + 1;
    }
    return labels.reduce((n, l) => n + l.length + 1, 1) > MAX_NAME_WIRE ? undefined : { labels, starts };
  }
  let bytes: number[] = [];
  let labelStart = 0;
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c) {
      const next = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(next) && Number(next) < 256) {
        bytes.push(Number(next));
        i += 3;
      } else if (i + 1 < name.length) {
        bytes.push(name.charCodeAt(i + 1) & 0xff);
        i += 1;
      } else return undefined;
    } else if (ch === 0x2e) {
      if (bytes.length === 0 || bytes.length > 63) return undefined;
      labels.push(Uint8Array.from(bytes));
      starts.push(labelStart);
      bytes = [];
      labelStart = i + 1;
    } else bytes.push(ch & 0xff);
  }
  if (bytes.length === 0 || bytes.length > 63) return undefined;
  labels.push(Uint8Array.from(bytes));
  starts.push(labelStart);
  return labels.reduce((n, l) => n + l.length + 1, 1) > MAX_NAME_WIRE ? undefined : { labels, starts };
}

/**
 * ASCII-only lower case of wire bytes (DNS case-insensitivity is ASCII only). Only for the
 * bytes of a name: length octets are < 64 and so never touched, but type/class bytes would be.
 */
export function lowerAsciiInto(src: Uint8Array, start: number, end: number, dst: Uint8Array): void {
  for (let i = start, j = 0; i < end; i++, j++) {
    const c = src[i]!;
    dst[j] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
}
