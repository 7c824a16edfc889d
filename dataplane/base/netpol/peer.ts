/**
 * The two ends of a connection as NetworkPolicy sees them. A connection's source address tells
 * where it comes from (DESIGN §1): a pod IP is that pod, a node IP is that node, anything else
 * is outside the cluster and can only be matched by an `ipBlock`.
 */
import type { Labels } from '../model/selector.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A container port a named port in a policy can resolve to. */
export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

export interface PodPeer {
  kind: 'pod';
  ip: string;
  namespace: string;
  name: string;
  labels: Labels;
  /** The IP of the node the pod runs on: that node's own traffic to the pod is always allowed. */
  nodeIP?: string;
  /** Its containers' named ports, for policies that name a port. */
  ports: readonly NamedPort[];
}

export interface NodePeer {
  kind: 'node';
  ip: string;
  name: string;
}

export interface ExternalPeer {
  kind: 'external';
  ip: string;
}

export type Peer = PodPeer | NodePeer | ExternalPeer;

/** How a peer is named in a verdict: `x/a`, `node node-1`, `10.0.0.1`. */
export function peerName(p: Peer): string {
  switch (p.kind) {
    case 'pod':
      return `${p.namespace}/${p.name}`;
    case 'node':
      return `node ${p.name}`;
    case 'external':
      return p.ip;
  }
}
