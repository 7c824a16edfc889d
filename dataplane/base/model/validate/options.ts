import type { ClusterConfig } from '../../cluster-config.js';

/** Knobs of validateObject, for the few rules that depend on where in a write we are. */
export interface ValidationOptions {
  /**
   * The object has been through allocation (ClusterIP, NodePorts, healthCheckNodePort), as it is
   * when the apiserver validates. Before allocation, a LoadBalancer+Local Service without
   * healthCheckNodePort is fine: the allocator still owes it one.
   */
  allocated?: boolean;
  /**
   * The cluster the object is written to. With it, knet's own rules beyond the apiserver's run:
   * the addresses a Service makes the proxy listen on (service-addresses.ts). Admission always
   * passes it; without it validation is the apiserver's alone.
   */
  cluster?: ClusterConfig;
}
