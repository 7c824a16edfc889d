/**
 * NetworkPolicy for the controller's connections to pods: on a cluster they come from
 * ingress-nginx's controller pod, so the pods' ingress rules see that pod (namespace
 * `ingress-nginx`, its labels; base/netpol/system-peers.ts) at the address the controller binds.
 * A denied connection never completes its connect (upstream-pools.ts, upgrade-pass.ts): nginx's
 * proxy_connect_timeout fires, the next endpoint is tried, then 504.
 */
import type { Registry } from 'prom-client';
import { ingressSourceAddress, type ClusterConfig } from '../dataplane/base/cluster-config.js';
import type { InformerFactory } from '../dataplane/base/informer/informer-types.js';
import type { Logger } from '../dataplane/base/log.js';
import { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import { PolicyWorld } from '../dataplane/base/netpol/policy-world.js';
import { systemPeers } from '../dataplane/base/netpol/system-peers.js';

export interface IngressPolicy {
  enforcer: PolicyEnforcer;
  /** The controller pod's address, as policies see it. */
  source: string;
  /** True when a connection to address:port is denied (counted and logged). */
  denied(address: string, port: number): boolean;
}

export function ingressPolicy(informers: InformerFactory, config: ClusterConfig, sourceAddress: string | undefined, log: Logger, registry: Registry): IngressPolicy {
  const enforcer = new PolicyEnforcer(new PolicyWorld(informers, { systemPeers: systemPeers(config) }), 'ingress', log, registry);
  const source = sourceAddress ?? ingressSourceAddress(config);
  return { enforcer, source, denied: (address, port) => !enforcer.allows(source, address, port, 'TCP') };
}
