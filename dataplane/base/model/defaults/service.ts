/**
 * Service defaults (SetDefaults_Service) plus the create strategy's clusterIP/clusterIPs
 * normalisation, so what validation sees and the store keeps is what the apiserver would keep.
 */
import { asObject, asObjects, setDefault, type JsonObject } from './json.js';

export const DEFAULT_CLIENT_IP_TIMEOUT = 10800;

function externallyAccessible(spec: JsonObject): boolean {
  const t = spec.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
}

export function defaultServiceSpec(spec: JsonObject, status: JsonObject | undefined): void {
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  setDefault(spec, 'type', 'ClusterIP');

  for (const port of asObjects(spec.ports)) {
    setDefault(port, 'protocol', 'TCP');
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }

  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = asObject(asObject(spec.sessionAffinityConfig)?.clientIP)?.timeoutSeconds;
    if (timeout === undefined) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  }
  if (externallyAccessible(spec) && (spec.externalTrafficPolicy === undefined || spec.externalTrafficPolicy === '')) {
    spec.externalTrafficPolicy = 'Cluster';
  }
  if (spec.type === 'ClusterIP' || spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);

  // The create strategy keeps clusterIP and clusterIPs in step (NormalizeClusterIPs).
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '' && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
  else if ((spec.clusterIP === undefined || spec.clusterIP === '') && typeof ips[0] === 'string') spec.clusterIP = ips[0];

  // What the allocator settles for a single-stack IPv4 cluster; ExternalName gets no IP family.
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  }

  for (const ing of asObjects(asObject(status?.loadBalancer)?.ingress)) {
    if (typeof ing.ip === 'string' && ing.ip !== '') setDefault(ing, 'ipMode', 'VIP');
  }
}
