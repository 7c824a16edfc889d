/**
 * The cluster's settings: the address plan of DESIGN.md §1 and the knobs every component
 * must agree on. Stored in Redis by `knet up` so no component hard-codes them.
 *
 * Cluster index 0 is the default cluster with Kubernetes' defaults (first octet 127).
 * Clusters 1…65 (test suites run one per worker) take two /16s of their own so no two
 * clusters on a machine share an address:
 *   pods     127.(112+2i).k.0/24 for node k
 *   the rest B = 127.(113+2i): nodes B.18.(k+1), services B.96.0.0/20,
 *            LoadBalancer pool B.255.200–250
 */
import { cidrAddress, intToIp, ipToInt } from './net/ip.js';

export interface ClusterConfig {
  name: string;
  index: number;
  clusterDomain: string;
  /** Node k (1-based) has address nodeAddressBase + k. */
  nodeAddressBase: string;
  /** Node k's pods live in `${podPrefix}.${k}.0/24`. */
  podPrefix: string;
  serviceCIDR: string;
  kubernetesServiceIP: string;
  dnsServiceIP: string;
  /** Port the DNS server listens on; 53 unless privilege forces a fallback. */
  dnsPort: number;
  dnsTTL: number;
  /**
   * Where the cluster DNS forwards names outside its zones (the Corefile's `forward . …`):
   * "host[:port]", null = forwarding off (REFUSED), unset = the host's /etc/resolv.conf.
   */
  dnsUpstream?: string | null;
  /** One line per DNS query in the dns component's output (the Corefile's `log`). */
  dnsLogQueries?: boolean;
  loadBalancerPool: { first: string; last: string };
  nodePortRange: { min: number; max: number };
  /** A node that has not heartbeat for this long goes NotReady. */
  nodeGraceSeconds: number;
  /** Zone label per node name (topology.kubernetes.io/zone), when configured. */
  zones?: Record<string, string>;
}

export const MAX_CLUSTER_INDEX = 65;

export function clusterConfig(index = 0, name = index === 0 ? 'default' : `c${index}`): ClusterConfig {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CLUSTER_INDEX) {
    throw new Error(`cluster index must be 0…${MAX_CLUSTER_INDEX}, got ${index}`);
  }
  const podPrefix = index === 0 ? '127.244' : `127.${112 + 2 * index}`;
  const b = `127.${113 + 2 * index}`;
  const nodeBase = index === 0 ? '127.18.0.1' : `${b}.18.1`;
  const serviceCIDR = index === 0 ? '127.96.0.0/12' : `${b}.96.0/20`;
  const lb = index === 0 ? '127.18.255' : `${b}.255`;
  return {
    name,
    index,
    clusterDomain: 'cluster.local',
    nodeAddressBase: nodeBase,
    podPrefix,
    serviceCIDR,
    kubernetesServiceIP: cidrAddress(serviceCIDR, 1),
    dnsServiceIP: cidrAddress(serviceCIDR, 10),
    dnsPort: 53,
    dnsTTL: 30,
    loadBalancerPool: { first: `${lb}.200`, last: `${lb}.250` },
    nodePortRange: { min: 30000, max: 32767 },
    nodeGraceSeconds: 5,
  };
}

/** Node names are node-1, node-2, …; their ordinal picks their address and pod /24. */
export function nodeOrdinal(nodeName: string): number | undefined {
  const m = /^node-(\d+)$/.exec(nodeName);
  return m ? Number(m[1]) : undefined;
}

export function nodeIP(config: ClusterConfig, ordinal: number): string {
  return intToIp(ipToInt(config.nodeAddressBase) + ordinal);
}

export function podSubnet(config: ClusterConfig, ordinal: number): string {
  return `${config.podPrefix}.${ordinal}.0/24`;
}

export function loadBalancerAddresses(config: ClusterConfig): string[] {
  const out: string[] = [];
  for (let n = ipToInt(config.loadBalancerPool.first); n <= ipToInt(config.loadBalancerPool.last); n++) out.push(intToIp(n));
  return out;
}
