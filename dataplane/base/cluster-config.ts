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
 * The apiserver serves on the node range's .1 (127.18.0.1 in the default cluster, B.18.1
 * otherwise), port 6443: the address kind's gateway has, which no node takes.
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
  /** Where `knet apiserver` serves HTTPS (the `kubernetes` Service's endpoint). */
  apiServerAddress: string;
  apiServerPort: number;
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
  /**
   * `knet up --allow-external-ips`: Services may put externalIPs and loadBalancerIP on addresses
   * outside loopback, where the proxy's listeners are reachable from the network. Off by default:
   * a manifest cannot make a pod reachable from outside this machine.
   */
  allowExternalIPs?: boolean;
  /**
   * How long an Event lives after its last write (kube-apiserver's --event-ttl, one hour by
   * default); the controller-manager removes expired ones. Unset: the default.
   */
  eventTTLSeconds?: number;
}

/** kube-apiserver's default --event-ttl. */
export const DEFAULT_EVENT_TTL_SECONDS = 3600;

export function eventTTLSeconds(config: Pick<ClusterConfig, 'eventTTLSeconds'> | undefined): number {
  const ttl = config?.eventTTLSeconds;
  return ttl !== undefined && Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_EVENT_TTL_SECONDS;
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
    apiServerAddress: nodeBase,
    apiServerPort: 6443,
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

/** The /24 of node IPs (node k = nodeAddressBase + k). */
export function nodeRange(config: ClusterConfig): string {
  const base = ipToInt(config.nodeAddressBase);
  return `${intToIp(base - (base % 256))}/24`;
}

/** Every pod subnet of the cluster: `${podPrefix}.k.0/24` for every k, so the whole /16. */
export function podRange(config: ClusterConfig): string {
  return `${config.podPrefix}.0.0/16`;
}

/**
 * The address block a cluster index stands for on this machine (claimed by one cluster at a
 * time, dataplane/cluster/state-dir.ts): block 0 is Kubernetes' defaults moved to 127 (nodes and
 * the LoadBalancer pool in 127.18.0.0/16, kind's docker network), block i the two /16s of the
 * header comment.
 */
export function addressBlock(index: number): string[] {
  if (index === 0) return ['127.18.0.0/16', '127.96.0.0/12', '127.244.0.0/16'];
  return [`127.${112 + 2 * index}.0.0/16`, `127.${113 + 2 * index}.0.0/16`];
}

export function loadBalancerAddresses(config: ClusterConfig): string[] {
  const out: string[] = [];
  for (let n = ipToInt(config.loadBalancerPool.first); n <= ipToInt(config.loadBalancerPool.last); n++) out.push(intToIp(n));
  return out;
}

/**
 * The ingress controller's "pod IP": the last address of node-1's pod /24, which the node
 * agent never hands out, so backends see the ingress as their client as in a cluster (and
 * NetworkPolicy sees a pod of the ingress-nginx namespace, base/netpol/system-peers.ts).
 */
export function ingressSourceAddress(config: ClusterConfig): string {
  return `${config.podPrefix}.1.254`;
}
