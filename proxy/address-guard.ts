/**
 * The proxy's own check of the addresses it is asked to listen on: the rules admission applies
 * to externalIPs and LoadBalancer IPs (dataplane/base/model/validate/service-addresses.ts), and a
 * ClusterIP inside this cluster's service range. Again, because a Service can reach the store
 * without admission (an older knet, a client writing Redis directly, a cluster restarted
 * without --allow-external-ips). desiredListeners turns a refused address into a listener
 * problem — logged, counted with the bind errors, a Warning event on its Service — before
 * claiming the address, so a refused address never shadows another Service's listener. Pure.
 */
import type { ClusterConfig } from '../dataplane/base/cluster-config.js';
import { serviceAddressProblem } from '../dataplane/base/model/validate/service-addresses.js';
import { cidrContains } from '../dataplane/base/net/ip.js';
import type { ListenerSpec } from './frontends.js';

/** Why a listener may not be opened, or undefined. */
export type ListenerRefusal = (spec: Omit<ListenerSpec, 'id'>) => string | undefined;

export function addressGuard(config: ClusterConfig): ListenerRefusal {
  return (spec) => {
    let problem: string | undefined;
    if (spec.role === 'externalIP') problem = serviceAddressProblem(spec.address, 'externalIP', config);
    else if (spec.role === 'loadBalancer') problem = serviceAddressProblem(spec.address, 'loadBalancerIP', config);
    else if (spec.role === 'clusterIP' && !cidrContains(config.serviceCIDR, spec.address)) problem = `is not in this cluster's service range (${config.serviceCIDR})`;
    const role = spec.role === 'loadBalancer' ? 'loadBalancerIP' : spec.role;
    return problem ? `refusing to listen on ${spec.address}:${spec.port}/${spec.protocol} (${role} of ${spec.service}): ${problem}` : undefined;
  };
}
