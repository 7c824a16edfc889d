/**
 * A pod's /etc/resolv.conf, as the kubelet computes it (k/k pkg/kubelet/network/dns/dns.go
 * GetPodDNS) and containerd writes it (search, then nameserver, then options lines):
 *
 *   ClusterFirst (default)   nameserver = the cluster DNS; search = <ns>.svc.<domain>
 *                            svc.<domain> <domain> + the node's search domains; options ndots:5
 *   Default                  the node's own resolv.conf (nameservers, search, options)
 *   None                     only what spec.dnsConfig says
 *   ClusterFirstWithHostNet  ClusterFirst (for hostNetwork pods too)
 *   hostNetwork + ClusterFirst → Default, as the kubelet does.
 * spec.dnsConfig then merges in (nameservers and searches appended without duplicates,
 * options by name with the pod's value winning), and the kubelet's limits apply: 3
 * nameservers, 32 search domains of at most 2048 characters together.
 *
 * Pure: the node's resolv.conf comes in as text.
 */
import type { Pod, PodDNSConfigOption, PodSpec } from 'kubernetes-types/core/v1.js';

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  /** "ndots:5", "timeout:2", "edns0"… in file order. */
  options: string[];
}

export interface ClusterDnsSettings {
  clusterDomain: string;
  /** The cluster DNS Service IP (kube-dns). */
  dnsServiceIP: string;
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;
const MAX_DOMAIN_CHARS = 253;

/** Parses resolv.conf text (the node's, or a pod's): nameserver, search/domain, options lines. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...fields] = line.split(/\s+/);
    if (!key || fields.length === 0) continue;
    if (key === 'nameserver') out.nameservers.push(fields[0]!);
    // The last search or domain line wins (resolv.conf(5)).
    else if (key === 'search') out.searches = fields;
    else if (key === 'domain') out.searches = [fields[0]!];
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

export function renderResolvConf(conf: ResolvConf): string {
  let text = '';
  if (conf.searches.length) text += `search ${conf.searches.join(' ')}\n`;
  for (const ns of conf.nameservers) text += `nameserver ${ns}\n`;
  if (conf.options.length) text += `options ${conf.options.join(' ')}\n`;
  return text;
}

/** The resolv.conf the kubelet gives this pod. `node` is the node's own resolv.conf. */
export function podResolvConf(pod: Pod, cluster: ClusterDnsSettings, node: ResolvConf): ResolvConf {
  const spec: Partial<PodSpec> = pod.spec ?? {};
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let conf: ResolvConf;
  if (policy === 'None') conf = { nameservers: [], searches: [], options: [] };
  else if (policy === 'Default') conf = { nameservers: [...node.nameservers], searches: [...node.searches], options: [...node.options] };
  else {
    const ns = pod.metadata?.namespace ?? 'default';
    const d = cluster.clusterDomain;
    conf = {
      nameservers: [cluster.dnsServiceIP],
      searches: dedupe([`${ns}.svc.${d}`, `svc.${d}`, d, ...node.searches]),
      options: ['ndots:5'],
    };
  }
  const extra = spec.dnsConfig;
  if (extra) {
    conf.nameservers = dedupe([...conf.nameservers, ...(extra.nameservers ?? [])]);
    conf.searches = dedupe([...conf.searches, ...(extra.searches ?? [])]);
    conf.options = mergeOptions(conf.options, extra.options ?? []);
  }
  return applyLimits(conf);
}

/** The pod's options override the base ones of the same name; new ones are appended (kubelet mergeDNSOptions). */
function mergeOptions(base: string[], extra: PodDNSConfigOption[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

function applyLimits(conf: ResolvConf): ResolvConf {
  const searches: string[] = [];
  let chars = 0;
  for (const s of conf.searches.map((x) => x.replace(/\.$/, ''))) {
    if (s.length > MAX_DOMAIN_CHARS) continue;
    if (searches.length >= MAX_SEARCHES || chars + s.length + (searches.length ? 1 : 0) > MAX_SEARCH_CHARS) break;
    chars += s.length + (searches.length ? 1 : 0);
    searches.push(s);
  }
  return { nameservers: conf.nameservers.slice(0, MAX_NAMESERVERS), searches, options: conf.options };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list.filter((s) => s !== ''))];
}

/** The `ndots:N` option (1 when absent, as in glibc and musl; capped at 15). */
export function ndotsOf(conf: ResolvConf): number {
  let ndots = 1;
  for (const o of conf.options) {
    const m = /^ndots:(\d+)$/.exec(o);
    if (m) ndots = Math.min(15, Number(m[1]));
  }
  return ndots;
}
