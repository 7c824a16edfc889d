/**
 * Where one connection goes: the route (which endpoint set, or reject, hang or drop, and which
 * source address) and then the endpoint within it (affinity, else round robin).
 *
 * Route rules (kube-proxy's iptables proxier, seen from the node that receives the traffic):
 * - no usable endpoint anywhere → reject (REJECT, "connection refused");
 * - ClusterIP: the client's node is the receiving node (a client outside every node is taken
 *   to arrive at this proxy's first node). internalTrafficPolicy Local → that node's endpoints,
 *   none → hang (DROP); Cluster → the cluster-wide set;
 * - NodePort (receiving node = the node owning the IP), LoadBalancer / externalIP (receiving
 *   node = the client's own node for pods and nodes, as their node's rules catch the packet,
 *   else the announcing node): externalTrafficPolicy Local → the receiving node's endpoints,
 *   none → hang; except traffic from a pod on that node or from the node itself, which takes
 *   the cluster-wide set (kube-proxy's short-circuit). Cluster → the cluster-wide set.
 * - LoadBalancer IP with loadBalancerSourceRanges: a client outside them → drop
 *   (source-ranges.ts), before the traffic policies, as kube-proxy's firewall chain comes
 *   before the DNAT; the receiving node's IP decides whether its own VIP-sourced packets pass.
 *
 * Endpoint rules (userspace proxier's LoadBalancerRR): a live ClientIP record wins, unless
 * this is a retry after a failed attempt; otherwise the next endpoint in round robin, recorded
 * for affinity. State is per service port and survives table rebuilds; it is reset only when
 * what it depends on changes.
 */
import { AffinityTable } from './affinity.js';
import type { FrontendRole } from './frontends.js';
import { RoundRobin, type Random } from './round-robin.js';
import { endpointId, type EndpointInfo, type ServicePortInfo, type ServiceTable } from './service-table.js';
import { upstreamSourceAddress } from './snat.js';
import { sourceRangeDenial } from './source-ranges.js';
import { categorizeEndpoints, type EndpointSets } from './topology.js';
import { NodeDirectory, type NodeAddress, type TrafficSource } from './traffic-source.js';

export interface Frontend {
  role: FrontendRole;
  /** See ListenerSpec.node. */
  node?: string;
}

export type Route =
  | {
      action: 'forward';
      /** Which candidate set: round robin keeps one rotation per scope. */
      scope: string;
      endpoints: readonly EndpointInfo[];
      sourceAddress: string;
      receivingNode?: string;
      source: TrafficSource;
    }
  | { action: 'reject'; reason: string; source: TrafficSource }
  | { action: 'hang'; reason: string; source: TrafficSource }
  /** A source outside loadBalancerSourceRanges (kube-proxy's firewall DROPs it). */
  | { action: 'drop'; reason: string; source: TrafficSource };

interface PortState {
  port: ServicePortInfo;
  rr: Map<string, RoundRobin>;
  affinity?: AffinityTable;
  /** categorizeEndpoints per node, valid until the next update. */
  sets: Map<string, EndpointSets & { scope: string }>;
}

export class EndpointChooser {
  private readonly ports = new Map<string, PortState>();
  private nodes = new NodeDirectory([]);
  private defaultNode: string | undefined;

  constructor(private readonly random: Random = Math.random) {}

  /**
   * Adopts a freshly built table. allNodes classifies clients; servedNodes are the nodes this
   * proxy stands for (the first by name receives ClusterIP traffic from outside the cluster).
   */
  update(table: ServiceTable, allNodes: readonly NodeAddress[], servedNodes: readonly NodeAddress[], nowMs: number): void {
    const known = new Map<string, NodeAddress>();
    for (const n of [...allNodes, ...servedNodes]) known.set(n.name, { ...known.get(n.name), ...n });
    this.nodes = new NodeDirectory([...known.values()]);
    this.defaultNode = [...servedNodes].map((n) => n.name).sort()[0];

    for (const key of this.ports.keys()) if (!table.has(key)) this.ports.delete(key);
    for (const port of table.values()) {
      let st = this.ports.get(port.key);
      if (!st) this.ports.set(port.key, (st = { port, rr: new Map(), sets: new Map() }));
      st.port = port;
      st.sets.clear();
      if (port.affinity.type === 'None') {
        // Switching to None forgets stickiness, as the userspace proxier's re-created socket did.
        delete st.affinity;
      } else {
        st.affinity ??= new AffinityTable(port.affinity.timeoutSeconds);
        st.affinity.timeoutSeconds = port.affinity.timeoutSeconds;
        st.affinity.prune(new Set(port.endpoints.map(endpointId)), nowMs);
      }
    }
  }

  has(serviceKey: string): boolean {
    return this.ports.has(serviceKey);
  }

  port(serviceKey: string): ServicePortInfo | undefined {
    return this.ports.get(serviceKey)?.port;
  }

  node(name: string): NodeAddress | undefined {
    return this.nodes.get(name);
  }

  classify(clientIp: string): TrafficSource {
    return this.nodes.classify(clientIp);
  }

  /** The endpoint sets of a service port as seen from one node (memoised until the next update). */
  setsFor(serviceKey: string, nodeName: string | undefined): EndpointSets & { scope: string } {
    const st = this.ports.get(serviceKey);
    if (!st) return { cluster: [], local: [], hasAnyEndpoints: false, scope: 'cluster@' };
    const memoKey = nodeName ?? '';
    let sets = st.sets.get(memoKey);
    if (!sets) {
      const zone = nodeName ? this.nodes.get(nodeName)?.zone : undefined;
      const computed = categorizeEndpoints(st.port.endpoints, nodeName, zone);
      // The cluster set differs between nodes only through the zone used for topology hints.
      sets = { ...computed, scope: `cluster@${zone ?? ''}` };
      st.sets.set(memoKey, sets);
    }
    return sets;
  }

  route(serviceKey: string, frontend: Frontend, clientIp: string): Route {
    const source = this.nodes.classify(clientIp);
    const port = this.ports.get(serviceKey)?.port;
    if (!port) return { action: 'reject', reason: 'service port is gone', source };
    const clientNode = source.kind === 'external' ? undefined : source.node;

    const receiving =
      frontend.role === 'clusterIP'
        ? (clientNode ?? this.defaultNode)
        : frontend.role === 'nodePort'
          ? frontend.node
          : (clientNode ?? frontend.node);
    const sets = this.setsFor(serviceKey, receiving);
    if (!sets.hasAnyEndpoints) return { action: 'reject', reason: `${port.key} has no endpoints`, source };
    // The firewall before any policy: its chain sits in front of the DNAT. (The iptables
    // proxier writes it only for a port with endpoints; without, every client is rejected.)
    if (frontend.role === 'loadBalancer' && port.loadBalancerSourceRanges.length > 0) {
      const denial = sourceRangeDenial(port.loadBalancerSourceRanges, port.loadBalancerIPs, clientIp, receiving ? this.nodes.get(receiving)?.ip : undefined);
      if (denial) return { action: 'drop', reason: `${denial} of ${port.key}`, source };
    }

    const local = (): Route =>
      sets.local.length === 0
        ? { action: 'hang', reason: `${port.key} has no local endpoint on ${receiving ?? 'this node'}`, source }
        : forward(sets.local, `local@${receiving}`);
    const forward = (endpoints: readonly EndpointInfo[], scope: string): Route => ({
      action: 'forward',
      scope,
      endpoints,
      sourceAddress: upstreamSourceAddress(port, frontend.role, clientIp, receiving ? this.nodes.get(receiving)?.ip : undefined),
      ...(receiving ? { receivingNode: receiving } : {}),
      source,
    });

    if (frontend.role === 'clusterIP') {
      return port.internalTrafficPolicy === 'Local' ? local() : forward(sets.cluster, sets.scope);
    }
    if (port.externalTrafficPolicy === 'Local') {
      if (clientNode !== undefined && clientNode === receiving) return forward(sets.cluster, sets.scope);
      return local();
    }
    return forward(sets.cluster, sets.scope);
  }

  /**
   * Picks the endpoint for a forward route. After a failed attempt (retry) the sticky record is
   * skipped, the rotation advances and the record is overwritten, as tryConnect did; `tried`
   * (ids of the endpoints this connection already failed on) are passed over while another
   * candidate is left. The userspace proxier took the next in rotation whatever it was, so
   * with other connections advancing the rotation in between, a connection could land on the
   * same dead endpoints attempt after attempt (a rollout's pods that exited before the proxy
   * heard) and its client got an empty reply.
   */
  choose(serviceKey: string, route: Extract<Route, { action: 'forward' }>, clientIp: string, nowMs: number, retry = false, tried?: ReadonlySet<string>): EndpointInfo | undefined {
    const st = this.ports.get(serviceKey);
    if (!st || route.endpoints.length === 0) return undefined;
    if (st.affinity && !retry) {
      const sticky = st.affinity.lookup(clientIp, route.endpoints, nowMs);
      if (sticky) return sticky;
    }
    let rr = st.rr.get(route.scope);
    if (!rr) st.rr.set(route.scope, (rr = new RoundRobin(this.random)));
    rr.setEndpoints(route.endpoints);
    const ep = rr.nextEndpoint(retry ? tried : undefined);
    if (ep && st.affinity) st.affinity.record(clientIp, ep, nowMs);
    return ep;
  }

  /** Affinity records of a service port (clientIp → "ip:port"), for introspection and tests. */
  affinityEntries(serviceKey: string): Array<[string, string]> {
    return this.ports.get(serviceKey)?.affinity?.entries() ?? [];
  }
}
