/**
 * Pod IPs from the node's /24, as host-local IPAM hands them out: sequentially after the
 * last one given, wrapping, skipping .0, .1 (the "gateway"), .254 (kept for the ingress
 * controller's own address on node-1) and .255. The store's claim
 * pool `podip-<node>` keeps them unique even across agent restarts.
 */
import { podSubnet, type ClusterConfig } from '../base/cluster-config.js';
import { cidrAddress } from '../base/net/ip.js';

export class PodIPAllocator {
  private last = 1;
  constructor(
    private readonly config: ClusterConfig,
    private readonly ordinal: number,
  ) {}

  get pool(): string {
    return `podip-node-${this.ordinal}`;
  }

  /** The next address not in `taken`, or undefined when the /24 is full. */
  next(taken: ReadonlySet<string>): string | undefined {
    const subnet = podSubnet(this.config, this.ordinal);
    for (let i = 0; i < 252; i++) {
      const host = ((this.last - 1 + i) % 252) + 2; // 2…253, starting after the last one given
      const ip = cidrAddress(subnet, host);
      if (!taken.has(ip)) {
        this.last = host;
        return ip;
      }
    }
    return undefined;
  }
}
