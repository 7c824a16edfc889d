/**
 * IP address text as Go's net.ParseIP reads it and net.IP.String() writes it, because
 * CoreDNS decides record types (A vs AAAA vs CNAME) and reverse-name matches with those.
 *
 * - IPv4: dotted decimal, four parts, 0–255, no leading zeros (Go ≥ 1.17).
 * - IPv6: RFC 4291 text, optional trailing dotted IPv4, no zone (`%eth0` is rejected).
 * - An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is family 4, as Go's To4() makes it.
 */

export interface IPAddress {
  family: 4 | 6;
  /** 4 bytes for family 4, 16 for family 6. */
  bytes: Uint8Array;
  /** Go's String(): dotted quad, or RFC 5952 compressed lower-case IPv6. */
  text: string;
}

export function parseIP(text: string): IPAddress | undefined {
  if (text.includes(':')) return parseIPv6(text);
  const v4 = parseIPv4Bytes(text);
  return v4 ? { family: 4, bytes: v4, text: v4.join('.') } : undefined;
}

function parseIPv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIPv6(text: string): IPAddress | undefined {
  if (text.length > 45 || text.includes('%')) return undefined;
  const bytes = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const groups: number[] = [];
  const all = [...head, ...tail];
  let v4tail: Uint8Array | undefined;
  // A dotted IPv4 may only stand as the very last group.
  const last = all.length > 0 ? all[all.length - 1]! : '';
  if (last.includes('.')) {
    v4tail = parseIPv4Bytes(last);
    if (!v4tail) return undefined;
    if (tail.length > 0) tail.pop();
    else head.pop();
  }
  const parseGroups = (list: string[]): boolean => {
    for (const g of list) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      groups.push(parseInt(g, 16));
    }
    return true;
  };
  const headGroups: number[] = [];
  if (!parseGroups(head)) return undefined;
  headGroups.push(...groups.splice(0));
  if (!parseGroups(tail)) return undefined;
  const tailGroups = groups.splice(0);
  const width = 8 - (v4tail ? 2 : 0);
  const used = headGroups.length + tailGroups.length;
  // Without '::' every group must be present; with it, '::' stands for at least one zero group.
  if (halves.length === 1 ? used !== width : used > width - 1) return undefined;
  const words = [...headGroups, ...new Array<number>(width - used).fill(0), ...tailGroups];
  for (let i = 0; i < words.length; i++) {
    bytes[2 * i] = words[i]! >> 8;
    bytes[2 * i + 1] = words[i]! & 255;
  }
  if (v4tail) bytes.set(v4tail, 12);
  if (isV4Mapped(bytes)) {
    const v4 = bytes.slice(12);
    return { family: 4, bytes: v4, text: v4.join('.') };
  }
  return { family: 6, bytes, text: formatIPv6(bytes) };
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** RFC 5952: lower case, longest run of ≥2 zero groups compressed (first one on a tie). */
export function formatIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (w: number) => w.toString(16);
  if (bestLen < 2) return words.map(hex).join(':');
  const left = words.slice(0, bestStart).map(hex).join(':');
  const right = words.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

/** The canonical text of an address, or undefined when it is not one. */
export function canonicalIP(text: string): string | undefined {
  return parseIP(text)?.text;
}
