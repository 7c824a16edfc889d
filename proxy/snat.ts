/**
 * The source address the backend sees: the SNAT decision of kube-proxy's iptables rules,
 * made here by choosing the local address of the upstream socket (all of 127/8 is local, so
 * binding to the client's own address works and the pod sees the client as in a real cluster).
 *
 * - ClusterIP traffic keeps the client's address. (Real kube-proxy also masquerades ClusterIP
 *   traffic from outside the cluster CIDR; knet keeps it so /clientip shows who called.)
 * - externalTrafficPolicy Local keeps the client's address; that is the policy's whole point.
 *   Its short-circuit for the node itself is masqueraded to the node IP, which is the client
 *   address already.
 * - externalTrafficPolicy Cluster on NodePort, LoadBalancer and externalIP traffic is
 *   masqueraded to the receiving node's IP, since the chosen pod may live on another node.
 */
import type { FrontendRole } from './frontends.js';
import type { ServicePortInfo } from './service-table.js';

export function upstreamSourceAddress(
  port: Pick<ServicePortInfo, 'externalTrafficPolicy'>,
  role: FrontendRole,
  clientIp: string,
  receivingNodeIp: string | undefined,
): string {
  if (role === 'clusterIP') return clientIp;
  if (port.externalTrafficPolicy === 'Local') return clientIp;
  return receivingNodeIp ?? clientIp;
}
