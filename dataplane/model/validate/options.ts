/** Knobs of validateObject, for the few rules that depend on where in a write we are. */
export interface ValidationOptions {
  /**
   * The object has been through allocation (ClusterIP, NodePorts, healthCheckNodePort), as it is
   * when the apiserver validates. Before allocation, a LoadBalancer+Local Service without
   * healthCheckNodePort is fine: the allocator still owes it one.
   */
  allocated?: boolean;
}
