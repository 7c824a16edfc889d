/**
 * Whether an address block is free on this machine before a cluster takes it. The block's lock
 * (state-dir.ts) says no live knet cluster holds it; this says nothing else does: no socket
 * listens (TCP) or is bound (UDP) on its node IPs, pod IPs, ClusterIPs or LoadBalancer pool —
 * say a program a killed node agent left behind, or anyone's server on 127.118.1.3:8080. A
 * cluster that joined such a block would find its pod or Service ports taken and crash-loop.
 * Linux only (/proc/net); elsewhere every block counts as free.
 */
import { clusterConfig, loadBalancerAddresses, nodeIP } from '../base/cluster-config.js';
import { boundSockets, socketHolder, type BoundSocket } from '../base/net/bound-sockets.js';
import { ipToInt, parseCidr } from '../base/net/ip.js';

/** Inclusive integer ranges of every address block `index` hands out. */
export function blockRanges(index: number): Array<[number, number]> {
  const config = clusterConfig(index);
  const pods = ipToInt(`${config.podPrefix}.0.0`);
  const services = parseCidr(config.serviceCIDR);
  const pool = loadBalancerAddresses(config).map(ipToInt);
  return [
    [pods, pods + 65_535],
    [ipToInt(nodeIP(config, 1)), ipToInt(nodeIP(config, 250))],
    [services.base, services.base + services.size - 1],
    [Math.min(...pool), Math.max(...pool)],
  ];
}

/** The sockets of `sockets` (boundSockets()) bound inside block `index`. */
export function socketsInBlock(index: number, sockets: BoundSocket[]): BoundSocket[] {
  const ranges = blockRanges(index);
  return sockets.filter((s) => {
    const n = ipToInt(s.address);
    return ranges.some(([lo, hi]) => n >= lo && n <= hi);
  });
}

/**
 * A check for claimClusterIndex over the machine's sockets as of now: why block `index` is not
 * free, naming the address and, when this user may see it, the process ("127.118.1.3:8080/tcp
 * is held by pid 4242: python3 -m http.server 8080"); undefined when it is free. One look at the
 * socket tables serves every block the claim tries.
 */
export async function blockCheck(): Promise<(index: number) => string | undefined> {
  const sockets = await boundSockets();
  return (index) => blockInUse(index, sockets);
}

export function blockInUse(index: number, sockets: BoundSocket[]): string | undefined {
  const taken = socketsInBlock(index, sockets);
  if (taken.length === 0) return undefined;
  const first = taken[0]!;
  const holder = socketHolder(first.inode);
  const who = holder ? `pid ${holder.pid}${holder.command ? `: ${holder.command}` : ''}` : "a process this user cannot see (another user's)";
  const more = taken.length > 1 ? ` (and ${taken.length - 1} more address${taken.length > 2 ? 'es' : ''} of the block)` : '';
  return `${first.address}:${first.port}/${first.proto} is held by ${who}${more}, not by a knet cluster`;
}
