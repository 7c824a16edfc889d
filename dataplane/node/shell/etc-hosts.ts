/**
 * A pod's /etc/hosts as the kubelet writes it (k/k pkg/kubelet/kubelet_pods.go
 * managedHostsFileContent): the loopback lines, one line per pod IP naming the pod's hostname
 * (its FQDN first when spec.subdomain is set), then spec.hostAliases. Also the lookup a libc
 * does in it before DNS ("files" before "dns" in nsswitch.conf). Pure.
 */
import type { HostAlias, Pod } from 'kubernetes-types/core/v1.js';
import { podHostname } from '../runtime/container-env.js';

export function podHostsFile(pod: Pod, podIPs: string[], clusterDomain: string): string {
  const hostNetwork = !!pod.spec?.hostNetwork;
  let text = hostNetwork ? '# Kubernetes-managed hosts file (host network).\n' : '# Kubernetes-managed hosts file.\n';
  text += '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
  const hostname = podHostname(pod);
  const fqdn = podFqdn(pod, clusterDomain);
  for (const ip of podIPs) text += fqdn ? `${ip}\t${fqdn}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  text += hostAliasLines(pod.spec?.hostAliases ?? []);
  return text;
}

/** `<hostname>.<subdomain>.<ns>.svc.<domain>` when the pod has a subdomain (what `hostname -f` shows). */
export function podFqdn(pod: Pod, clusterDomain: string): string | undefined {
  const sub = pod.spec?.subdomain;
  if (!sub) return undefined;
  return `${podHostname(pod)}.${sub}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`;
}

function hostAliasLines(aliases: HostAlias[]): string {
  if (aliases.length === 0) return '';
  let text = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) text += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return text;
}

/** The addresses a hosts file gives a name (case-insensitive, as glibc compares), IPv4 first. */
export function lookupHostsFile(text: string, name: string): string[] {
  const want = name.replace(/\.$/, '').toLowerCase();
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const [ip, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (!ip || names.length === 0) continue;
    if (names.some((n) => n.toLowerCase() === want) && !out.includes(ip)) out.push(ip);
  }
  return [...out.filter((ip) => !ip.includes(':')), ...out.filter((ip) => ip.includes(':'))];
}
