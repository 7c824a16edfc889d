/**
 * Reverse names (in-addr.arpa / ip6.arpa) as CoreDNS's dnsutil reads them.
 * Names here are lower-case presentation names without the trailing dot.
 */
import { parseIP } from './ip-address.js';

export const IP4_ARPA = 'in-addr.arpa';
export const IP6_ARPA = 'ip6.arpa';

/** 1 for a name under in-addr.arpa, 2 under ip6.arpa, 0 otherwise (dnsutil.IsReverse). */
export function isReverse(name: string): 0 | 1 | 2 {
  if (name.endsWith('.' + IP4_ARPA)) return 1;
  if (name.endsWith('.' + IP6_ARPA)) return 2;
  return 0;
}

/**
 * The address a full reverse name stands for, or '' (dnsutil.ExtractAddressFromReverse).
 * Partial names (`96.10.in-addr.arpa`) give ''; IPv6 needs all 32 nibbles to parse.
 */
export function addressFromReverse(name: string): string {
  if (name.endsWith('.' + IP4_ARPA)) {
    const labels = name.slice(0, -IP4_ARPA.length - 1).split('.').reverse();
    const ip = parseIP(labels.join('.'));
    // Go's reverse() returns the joined text itself when it parses.
    return ip && ip.family === 4 && labels.length === 4 ? labels.join('.') : '';
  }
  if (name.endsWith('.' + IP6_ARPA)) {
    const nibbles = name.slice(0, -IP6_ARPA.length - 1).split('.').reverse();
    const groups: string[] = [];
    for (let i = 0; i + 4 <= nibbles.length; i += 4) groups.push(nibbles.slice(i, i + 4).join(''));
    const ip = parseIP(groups.join(':'));
    if (!ip || nibbles.some((n) => n.length !== 1)) return '';
    return ip.text;
  }
  return '';
}

/** `10.0.96.10.in-addr.arpa` / full-nibble ip6.arpa name of an address (no trailing dot). */
export function reverseName(ip: string): string | undefined {
  const parsed = parseIP(ip);
  if (!parsed) return undefined;
  if (parsed.family === 4) return `${[...parsed.bytes].reverse().join('.')}.${IP4_ARPA}`;
  const nibbles: string[] = [];
  for (const b of parsed.bytes) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  return `${nibbles.reverse().join('.')}.${IP6_ARPA}`;
}
