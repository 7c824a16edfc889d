/**
 * The DNS flags of `knet dns` and `knet up` (`--upstream HOST[:PORT]`, `--no-forward`,
 * `--log-queries`) turned into the DNS server's settings, checked before anything starts so a
 * bad flag is a one-line usage error rather than a component that dies at start.
 *
 * They are the Corefile's `forward . …` and `log` lines: `knet up` stores them in the
 * cluster's settings (ClusterConfig.dnsUpstream / dnsLogQueries) so every `knet dns` process
 * agrees; `knet dns` run alone takes them as overrides for that one process.
 */
import { parseUpstream } from './upstream-config.js';

/** What commander gives for the three flags (`--no-forward` sets `forward: false`). */
export interface DnsFlags {
  upstream?: string;
  forward?: boolean;
  logQueries?: boolean;
}

/** The server settings the flags ask for; a field is absent when its flag was not given. */
export interface DnsSettings {
  /** "host[:port]"; null = forwarding off (REFUSED); absent = /etc/resolv.conf. */
  upstream?: string | null;
  logQueries?: boolean;
}

export function dnsSettingsFromFlags(flags: DnsFlags): DnsSettings {
  const out: DnsSettings = {};
  if (flags.upstream !== undefined && flags.forward === false) {
    throw new Error(`--upstream ${flags.upstream} and --no-forward contradict each other: give one`);
  }
  if (flags.upstream !== undefined) {
    if (!parseUpstream(flags.upstream)) {
      throw new Error(`--upstream "${flags.upstream}" is not a resolver address (want an IP, IP:PORT or [IPv6]:PORT)`);
    }
    out.upstream = flags.upstream;
  }
  if (flags.forward === false) out.upstream = null;
  if (flags.logQueries) out.logQueries = true;
  return out;
}
