/** Resource names as kubectl accepts them: plural, singular, short name, Kind. */
import type { Kind } from '../model/object.js';

const NAMES: Array<[Kind, string[]]> = [
  ['Pod', ['pods', 'pod', 'po']],
  ['Service', ['services', 'service', 'svc']],
  ['Endpoints', ['endpoints', 'ep']],
  ['EndpointSlice', ['endpointslices', 'endpointslice', 'eps', 'endpointslices.discovery.k8s.io']],
  ['Deployment', ['deployments', 'deployment', 'deploy', 'deployments.apps']],
  ['ReplicaSet', ['replicasets', 'replicaset', 'rs']],
  ['StatefulSet', ['statefulsets', 'statefulset', 'sts']],
  ['DaemonSet', ['daemonsets', 'daemonset', 'ds']],
  ['Ingress', ['ingresses', 'ingress', 'ing', 'ingresses.networking.k8s.io']],
  ['IngressClass', ['ingressclasses', 'ingressclass']],
  ['Node', ['nodes', 'node', 'no']],
  ['Namespace', ['namespaces', 'namespace', 'ns']],
  ['Secret', ['secrets', 'secret']],
  ['ConfigMap', ['configmaps', 'configmap', 'cm']],
  ['Event', ['events', 'event', 'ev']],
];

export function resolveKind(name: string): Kind {
  const lower = name.toLowerCase();
  for (const [kind, aliases] of NAMES) if (kind.toLowerCase() === lower || aliases.includes(lower)) return kind;
  throw new Error(`the server doesn't have a resource type "${name}"`);
}

export function pluralOf(kind: Kind): string {
  return NAMES.find(([k]) => k === kind)![1][0]!;
}

export const RESOURCE_HELP = NAMES.map(([, a]) => (a.length > 2 ? `${a[0]} (${a.slice(2).filter((x) => !x.includes('.')).join(', ') || a[1]})` : a[0])).join(', ');
