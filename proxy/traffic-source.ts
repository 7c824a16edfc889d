/**
 * Where a connection comes from, told by its source address alone (DESIGN.md §1): a client
 * bound to an address in a node's pod /24 is a pod on that node, a client bound to a node IP is
 * that node, anything else (127.0.0.1, an address outside the plan) is outside the cluster.
 * kube-proxy makes the same call with its local-traffic detector and `addrtype LOCAL`.
 */
import { cidrContains, parseCidr, type Cidr } from '../dataplane/base/net/ip.js';

export interface NodeAddress {
  name: string;
  ip: string;
  podCIDR: string;
  /** topology.kubernetes.io/zone of the node, for topology hints. */
  zone?: string;
}

export type TrafficSource =
  | { kind: 'pod'; node: string }
  | { kind: 'node'; node: string }
  | { kind: 'external' };

/** Nodes indexed for classification; build once per sync, not per connection. */
export class NodeDirectory {
  private readonly byIp = new Map<string, NodeAddress>();
  private readonly byName = new Map<string, NodeAddress>();
  private readonly podRanges: Array<{ cidr: Cidr; node: string }> = [];

  constructor(nodes: readonly NodeAddress[]) {
    for (const n of nodes) {
      this.byName.set(n.name, n);
      if (n.ip) this.byIp.set(n.ip, n);
      if (n.podCIDR) {
        try {
          this.podRanges.push({ cidr: parseCidr(n.podCIDR), node: n.name });
        } catch {
          // A node without a valid pod CIDR has no pods to recognise.
        }
      }
    }
  }

  get(name: string): NodeAddress | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  classify(clientIp: string): TrafficSource {
    const node = this.byIp.get(clientIp);
    if (node) return { kind: 'node', node: node.name };
    for (const r of this.podRanges) if (cidrContains(r.cidr, clientIp)) return { kind: 'pod', node: r.node };
    return { kind: 'external' };
  }
}

export function classifySource(clientIp: string, nodes: readonly NodeAddress[]): TrafficSource {
  return new NodeDirectory(nodes).classify(clientIp);
}
