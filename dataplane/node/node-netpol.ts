/**
 * NetworkPolicy on this node: one PolicyWorld and PolicyEnforcer for every pod here, and one
 * SilentHold for the connections it denies (runtime/pod-ingress.ts checks the pods' sockets with
 * them; a policy change rechecks what is held). The simulated shell's connections
 * (shell/dial-from-pod.ts) ask the same enforcer; Service addresses are left to the proxy,
 * which checks the endpoint it picks.
 */
import type { Registry } from 'prom-client';
import type { InformerFactory } from '../base/informer/informer-types.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import { PolicyWorld } from '../base/netpol/policy-world.js';
import { PolicyEnforcer } from '../base/netpol/enforcer.js';
import { SilentHold } from '../base/netpol/silent-hold.js';
import { proxiedAddresses, systemPeers } from '../base/netpol/system-peers.js';
import type { PodNetpol } from './runtime/pod-ingress.js';
import type { EgressCheck } from './shell/dial-from-pod.js';

export interface NodeNetpol {
  /** For the pods' runtimes (their listeners and outgoing connections). */
  netpol: PodNetpol;
  /** For the pods' simulated shells. */
  egress: EgressCheck;
  close(): void;
}

/** `registry`: the node agent's /metrics, where the enforcer counts what it denies. */
export function startNodeNetpol(informers: InformerFactory, config: ClusterConfig, nodeName: string, log: Logger, registry: Registry): NodeNetpol {
  const world = new PolicyWorld(informers, { systemPeers: systemPeers(config) });
  const netpol: PodNetpol = { enforcer: new PolicyEnforcer(world, nodeName, log, registry), hold: new SilentHold(), proxied: proxiedAddresses(config) };
  const unwatchPolicies = world.onChange(() => netpol.hold.recheck());
  const egress: EgressCheck = (pod, d) => ({
    allowed: netpol.proxied(d.ip, d.port) || netpol.enforcer.allows(pod.status?.podIP ?? '', d.ip, d.port, d.protocol),
  });
  return {
    netpol,
    egress,
    close() {
      unwatchPolicies();
      netpol.hold.closeAll();
    },
  };
}
