/**
 * Which upstream resolver names outside the cluster go to: an explicit "host[:port]", none
 * (forwarding off: REFUSED), or by default the first `nameserver` of /etc/resolv.conf that
 * is not this server itself (a pod's resolv.conf may point at the cluster DNS: forwarding
 * there would loop).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface UpstreamAddress {
  host: string;
  port: number;
}

export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // Strip an IPv6 zone (fe80::1%eth0): Node cannot send to it by that text anyway.
    if (m) out.push(m[1]!.replace(/%.*$/, ''));
  }
  return out.filter((a) => net.isIP(a) !== 0);
}

/** "10.0.0.1", "10.0.0.1:5353", "[fd00::1]:53", "fd00::1". */
export function parseUpstream(text: string): UpstreamAddress | undefined {
  const t = text.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket) return net.isIPv6(bracket[1]!) ? { host: bracket[1]!, port: port(bracket[2]) } : undefined;
  if (net.isIPv6(t)) return { host: t, port: 53 };
  const m = /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m || net.isIPv4(m[1]!) === false) return undefined;
  const p = port(m[2]);
  return p > 0 && p < 65536 ? { host: m[1]!, port: p } : undefined;
}

function port(text: string | undefined): number {
  return text === undefined ? 53 : Number(text);
}

/**
 * @param option null = off; undefined = from resolv.conf; otherwise "host[:port]".
 * @param self addresses this server listens on (skipped when read from resolv.conf).
 */
export function resolveUpstream(
  option: string | null | undefined,
  self: { address: string; port: number },
  resolvConfPath = '/etc/resolv.conf',
): { upstream: UpstreamAddress | undefined; reason: string } {
  if (option === null) return { upstream: undefined, reason: 'forwarding disabled' };
  if (option !== undefined) {
    const u = parseUpstream(option);
    if (!u) throw new Error(`upstream resolver "${option}" is not an address (want host, host:port or [v6]:port)`);
    return { upstream: u, reason: 'configured' };
  }
  let text: string;
  try {
    text = readFileSync(resolvConfPath, 'utf8');
  } catch (err) {
    return { upstream: undefined, reason: `cannot read ${resolvConfPath}: ${(err as Error).message}` };
  }
  for (const host of parseResolvConf(text)) {
    if (host === self.address && self.port === 53) continue;
    return { upstream: { host, port: 53 }, reason: `from ${resolvConfPath}` };
  }
  return { upstream: undefined, reason: `no usable nameserver in ${resolvConfPath}` };
}
