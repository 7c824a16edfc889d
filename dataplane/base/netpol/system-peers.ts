/**
 * The cluster's own components that real clusters run as pods but knet runs as processes: the
 * cluster DNS (CoreDNS, answering at kube-dns's ClusterIP) and the ingress controller (whose
 * connections to backends come from an address of its own). NetworkPolicy sees them as the pods
 * they are in a cluster — namespace and labels as CoreDNS's and ingress-nginx's manifests give
 * them — so `namespaceSelector: {kubernetes.io/metadata.name: kube-system}` or a podSelector for
 * the ingress controller work as they would there. bootstrap.ts creates both namespaces.
 */
import { ingressSourceAddress, type ClusterConfig } from '../cluster-config.js';
import { cidrContains, ipToInt, parseCidr } from '../net/ip.js';
import type { PodPeer } from './peer.js';

export const DNS_PEER_NAMESPACE = 'kube-system';
export const INGRESS_PEER_NAMESPACE = 'ingress-nginx';

/** CoreDNS's pod as the kube-dns Deployment labels it, at the kube-dns ClusterIP (its ports named as in that manifest). */
export function dnsPeer(config: ClusterConfig): PodPeer {
  return {
    kind: 'pod',
    ip: config.dnsServiceIP,
    namespace: DNS_PEER_NAMESPACE,
    name: 'coredns',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ],
  };
}

/** ingress-nginx's controller pod, at the address the ingress connects to backends from. */
export function ingressControllerPeer(config: ClusterConfig): PodPeer {
  return {
    kind: 'pod',
    ip: ingressSourceAddress(config),
    namespace: INGRESS_PEER_NAMESPACE,
    name: 'ingress-nginx-controller',
    labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/instance': 'ingress-nginx' },
    ports: [
      { name: 'http', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP' },
    ],
  };
}

/** Both, for a PolicyWorld of the cluster `config` describes. */
export function systemPeers(config: ClusterConfig): PodPeer[] {
  return [dnsPeer(config), ingressControllerPeer(config)];
}

/**
 * Addresses a proxy answers for — ClusterIPs (but kube-dns's, where the DNS server is the pod),
 * LoadBalancer IPs, NodePorts on node IPs: a connection to one is decided by the proxy after it
 * picks the pod (DNAT comes before policy), not by whoever opens it (dial-from-pod.ts).
 */
export function proxiedAddresses(config: ClusterConfig): (ip: string, port: number) => boolean {
  const services = parseCidr(config.serviceCIDR);
  const lbFirst = ipToInt(config.loadBalancerPool.first);
  const lbLast = ipToInt(config.loadBalancerPool.last);
  const nodeBase = ipToInt(config.nodeAddressBase);
  const { min, max } = config.nodePortRange;
  return (ip, port) => {
    if (ip === config.dnsServiceIP) return false;
    if (cidrContains(services, ip)) return true;
    const n = ipToInt(ip);
    if (n >= lbFirst && n <= lbLast) return true;
    return n > nodeBase && n <= nodeBase + 250 && port >= min && port <= max;
  };
}
