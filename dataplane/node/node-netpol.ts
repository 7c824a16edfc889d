/**
 * NetworkPolicy on this node: one PolicyWorld and PolicyEnforcer for every pod here, and one
 * SilentHold for the connections it denies (runtime/pod-ingress.ts checks the pods' sockets with
 * them; a policy change rechecks what is held). The simulated shell's connections
 * (shell/dial-from-pod.ts) ask the same enforcer; Service addresses are left to the proxy,
 * which checks the endpoint it picks, and this node's host ports to their forwarder.
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
  /**
   * This node's host ports (host-port-forwarder.ts): a pod of this node connecting to one is
   * decided by their forwarder, against the pod it forwards to (portmap's DNAT comes before
   * policy on the node), as a Service address is left to the proxy.
   */
  leaveToHostPorts(forwarded: (ip: string, port: number) => boolean): void;
  close(): void;
}

/** `registry`: the node agent's /metrics, where the enforcer counts what it denies. */
export function startNodeNetpol(informers: InformerFactory, config: ClusterConfig, nodeName: string, log: Logger, registry: Registry): NodeNetpol {
  const world = new PolicyWorld(informers, { systemPeers: systemPeers(config) });
  const services = proxiedAddresses(config);
  let hostPorts: ((ip: string, port: number) => boolean) | undefined;
  const proxied = (ip: string, port: number) => services(ip, port) || (hostPorts?.(ip, port) ?? false);
  const netpol: PodNetpol = { enforcer: new PolicyEnforcer(world, nodeName, log, registry), hold: new SilentHold(), proxied };
  const unwatchPolicies = world.onChange(() => netpol.hold.recheck());
  // The source is the address the shell binds, not the pod's status (the node's first copy of a pod has no podIP).
  const egress: EgressCheck = (source, d) => ({
    allowed: netpol.proxied(d.ip, d.port) || netpol.enforcer.allows(source.podIP, d.ip, d.port, d.protocol),
  });
  return {
    netpol,
    egress,
    leaveToHostPorts(forwarded) {
      hostPorts = forwarded;
    },
    close() {
      unwatchPolicies();
      netpol.hold.closeAll();
    },
  };
}
