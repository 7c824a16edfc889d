/**
 * getaddrinfo() inside a pod: what curl, wget and nc do with a name. As a libc does it:
 * /etc/hosts first ("files dns"), then the DNS with the search list of /etc/resolv.conf
 * (search-path.ts), asking each nameserver in turn (timeout:N, attempts:N), stopping at the
 * first candidate name that has an IPv4 answer (CNAMEs followed within the answer). Both files
 * are read from the container's own filesystem, so editing them in the pod changes resolution
 * as it would in a container. IPv4 only (knet's pods have no IPv6), so no AAAA queries are sent.
 */
import { isIP } from 'node:net';
import type { RecordType } from 'dns-packet';
import { lookupHostsFile } from './etc-hosts.js';
import { ndotsOf, parseResolvConf, type ResolvConf } from './resolv-conf.js';
import { searchCandidates, type LibcFlavour } from './search-path.js';
import { DnsTimeout, queryDns, type DnsReply, type DnsServer } from './dns-client.js';
import type { PodEndpoint } from './dial-from-pod.js';

export interface PodNetwork {
  endpoint: PodEndpoint;
  /** The image's C library: how it walks the search list. */
  libc: LibcFlavour;
  /** Which nslookup the image has. */
  nslookup: 'busybox' | 'bind';
}

export interface ResolverFiles {
  hosts: string;
  resolvConf: string;
}

export type Resolution =
  | { ok: true; addresses: string[]; name: string; source: 'literal' | 'hosts' | 'dns' }
  | { ok: false; reason: 'NXDOMAIN' | 'NODATA' | 'TIMEOUT' | 'SERVFAIL' };

export interface ResolverSettings {
  conf: ResolvConf;
  servers: DnsServer[];
  timeoutMs: number;
  attempts: number;
}

export function resolverSettings(resolvConfText: string): ResolverSettings {
  const conf = parseResolvConf(resolvConfText);
  const opt = (name: string, dflt: number) => {
    const m = conf.options.map((o) => new RegExp(`^${name}:(\\d+)$`).exec(o)).find(Boolean);
    return m ? Number(m[1]) : dflt;
  };
  // No nameserver line: the libc asks the local host (127.0.0.1:53).
  const servers = (conf.nameservers.length ? conf.nameservers : ['127.0.0.1']).map((ip) => ({ ip, port: 53 }));
  return { conf, servers, timeoutMs: opt('timeout', 5) * 1000, attempts: opt('attempts', 2) };
}

export async function resolveHost(network: PodNetwork, files: ResolverFiles, host: string, signal?: AbortSignal): Promise<Resolution> {
  const name = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(name)) return { ok: true, addresses: [name], name, source: 'literal' };
  const fromHosts = lookupHostsFile(files.hosts, name).filter((ip) => isIP(ip) === 4);
  if (fromHosts.length) return { ok: true, addresses: fromHosts, name, source: 'hosts' };
  const settings = resolverSettings(files.resolvConf);
  let timedOut = false;
  let servfail = false;
  let nodata = false;
  for (const candidate of searchCandidates(name, settings.conf.searches, ndotsOf(settings.conf), network.libc)) {
    const r = await askServers(network, settings, candidate, 'A', signal);
    if (r === 'timeout') {
      timedOut = true;
      // glibc gives up on the name when every server timed out (EAI_AGAIN).
      break;
    }
    if (r.rcode === 'NOERROR') {
      const addresses = addressesOf(r, candidate);
      if (addresses.length) return { ok: true, addresses, name: candidate, source: 'dns' };
      nodata = true;
    } else if (r.rcode === 'SERVFAIL') servfail = true;
  }
  return { ok: false, reason: timedOut ? 'TIMEOUT' : servfail ? 'SERVFAIL' : nodata ? 'NODATA' : 'NXDOMAIN' };
}

/** One question to the nameservers in order, moving on when one times out. */
export async function askServers(network: PodNetwork, settings: ResolverSettings, name: string, type: RecordType, signal?: AbortSignal): Promise<DnsReply | 'timeout'> {
  for (const server of settings.servers) {
    try {
      return await queryDns(network.endpoint, server, { name, type }, { timeoutMs: settings.timeoutMs, tries: settings.attempts, signal });
    } catch (err) {
      if (!(err instanceof DnsTimeout)) throw err;
    }
  }
  return 'timeout';
}

/** The A records for `name`, following CNAMEs inside the answer section. */
export function addressesOf(reply: DnsReply, name: string): string[] {
  const answers = reply.message.answers ?? [];
  let target = name.toLowerCase();
  for (let hops = 0; hops < 10; hops++) {
    const cname = answers.find((a) => a.type === 'CNAME' && a.name.toLowerCase() === target);
    if (!cname || cname.type !== 'CNAME') break;
    target = cname.data.toLowerCase().replace(/\.$/, '');
  }
  return answers.flatMap((a) => (a.type === 'A' && a.name.toLowerCase() === target ? [a.data] : []));
}
