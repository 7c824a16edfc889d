/**
 * The REST resources knet serves, one per stored kind, as the apiserver's discovery names them
 * (k8s.io/api types and the kube-apiserver's registry): plural and singular resource names,
 * short names, categories, verbs and subresources. Discovery, the REST routes, kubectl-style
 * name resolution in the CLI and error messages all read this one table.
 */
import { KINDS, type Kind } from './object.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface SubresourceInfo {
  /** "status", "scale", "log", "eviction", "binding", "token". */
  name: string;
  /** The kind the subresource takes and returns, when it is not the parent kind. */
  group?: string;
  version?: string;
  kind?: string;
  verbs: string[];
}

export interface ApiResource {
  kind: Kind;
  /** "" for the core group. */
  group: string;
  version: string;
  /** "pods", "endpointslices". */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: SubresourceInfo[];
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS: SubresourceInfo = { name: 'status', verbs: ['get', 'patch', 'update'] };
const PROXY_VERBS = ['create', 'delete', 'get', 'patch', 'update'];
const SCALE: SubresourceInfo = { name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };

interface Entry {
  plural: string;
  shortNames?: string[];
  categories?: string[];
  subresources?: SubresourceInfo[];
}

/** In the order kubectl api-resources lists the upstream ones (alphabetical within a group). */
const ENTRIES: Record<Kind, Entry> = {
  ConfigMap: { plural: 'configmaps', shortNames: ['cm'] },
  Endpoints: { plural: 'endpoints', shortNames: ['ep'] },
  Event: { plural: 'events', shortNames: ['ev'] },
  LimitRange: { plural: 'limitranges', shortNames: ['limits'] },
  Namespace: { plural: 'namespaces', shortNames: ['ns'], subresources: [STATUS] },
  Node: { plural: 'nodes', shortNames: ['no'], subresources: [STATUS] },
  PersistentVolumeClaim: { plural: 'persistentvolumeclaims', shortNames: ['pvc'], subresources: [STATUS] },
  PersistentVolume: { plural: 'persistentvolumes', shortNames: ['pv'], subresources: [STATUS] },
  Pod: {
    plural: 'pods',
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'ephemeralcontainers', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', verbs: PROXY_VERBS },
      STATUS,
    ],
  },
  ReplicationController: { plural: 'replicationcontrollers', shortNames: ['rc'], categories: ['all'], subresources: [SCALE, STATUS] },
  ResourceQuota: { plural: 'resourcequotas', shortNames: ['quota'], subresources: [STATUS] },
  Secret: { plural: 'secrets' },
  ServiceAccount: {
    plural: 'serviceaccounts',
    shortNames: ['sa'],
    // TokenRequest (authentication.k8s.io/v1): `kubectl create token`.
    subresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
  },
  Service: { plural: 'services', shortNames: ['svc'], categories: ['all'], subresources: [{ name: 'proxy', kind: 'ServiceProxyOptions', verbs: PROXY_VERBS }, STATUS] },
  DaemonSet: { plural: 'daemonsets', shortNames: ['ds'], categories: ['all'], subresources: [STATUS] },
  Deployment: { plural: 'deployments', shortNames: ['deploy'], categories: ['all'], subresources: [SCALE, STATUS] },
  ReplicaSet: { plural: 'replicasets', shortNames: ['rs'], categories: ['all'], subresources: [SCALE, STATUS] },
  StatefulSet: { plural: 'statefulsets', shortNames: ['sts'], categories: ['all'], subresources: [SCALE, STATUS] },
  CronJob: { plural: 'cronjobs', shortNames: ['cj'], categories: ['all'], subresources: [STATUS] },
  Job: { plural: 'jobs', categories: ['all'], subresources: [STATUS] },
  EndpointSlice: { plural: 'endpointslices' },
  Ingress: { plural: 'ingresses', shortNames: ['ing'], subresources: [STATUS] },
  IngressClass: { plural: 'ingressclasses' },
  NetworkPolicy: { plural: 'networkpolicies', shortNames: ['netpol'] },
  Lease: { plural: 'leases' },
  HorizontalPodAutoscaler: { plural: 'horizontalpodautoscalers', shortNames: ['hpa'], categories: ['all'], subresources: [STATUS] },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: [STATUS] },
  ClusterRoleBinding: { plural: 'clusterrolebindings' },
  ClusterRole: { plural: 'clusterroles' },
  RoleBinding: { plural: 'rolebindings' },
  Role: { plural: 'roles' },
  PriorityClass: { plural: 'priorityclasses', shortNames: ['pc'] },
  StorageClass: { plural: 'storageclasses', shortNames: ['sc'] },
};

export const API_RESOURCES: readonly ApiResource[] = (Object.keys(ENTRIES) as Kind[]).map((kind) => {
  const e = ENTRIES[kind];
  const apiVersion: string = KINDS[kind].apiVersion;
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  return {
    kind,
    group,
    version,
    plural: e.plural,
    singular: kind.toLowerCase(),
    namespaced: KINDS[kind].namespaced,
    shortNames: e.shortNames ?? [],
    categories: e.categories ?? [],
    verbs: ALL_VERBS,
    subresources: e.subresources ?? [],
  };
});

/**
 * A resource the apiserver serves but never stores: how discovery names it. Both kinds below
 * are cluster-scoped and found by the same (group, version, plural) lookup.
 */
export interface UnstoredResource {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: false;
}

/**
 * Resources that are only ever created, never stored (the apiserver's review APIs): served for
 * their POST and listed in discovery, as `kubectl api-resources` shows them.
 */
export interface CreateOnlyResource extends UnstoredResource {
  verbs: ['create'];
}

export const CREATE_ONLY_RESOURCES: readonly CreateOnlyResource[] = [
  // TokenReview: who a bearer token is (what webhook authenticators and Vault's Kubernetes auth ask).
  { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, verbs: ['create'] },
  // SelfSubjectReview: who am I (`kubectl auth whoami`).
  { group: 'authentication.k8s.io', version: 'v1', plural: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
  // The authorization reviews (`kubectl auth can-i`, `--list`; webhooks' SubjectAccessReview).
  { group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'] },
  { group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'] },
];

/**
 * Resources the apiserver computes on read and never stores: ComponentStatus (`kubectl get cs`,
 * deprecated upstream since 1.19 but still served in 1.32).
 */
export interface ComputedResource extends UnstoredResource {
  shortNames: string[];
  verbs: ['get', 'list'];
}

export const COMPUTED_RESOURCES: readonly ComputedResource[] = [
  { group: '', version: 'v1', plural: 'componentstatuses', singular: 'componentstatus', kind: 'ComponentStatus', namespaced: false, shortNames: ['cs'], verbs: ['get', 'list'] },
];

function unstoredResourceAt<R extends UnstoredResource>(resources: readonly R[], group: string, version: string, plural: string): R | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function computedResourceAt(group: string, version: string, plural: string): ComputedResource | undefined {
  return unstoredResourceAt(COMPUTED_RESOURCES, group, version, plural);
}

export function createOnlyResourceAt(group: string, version: string, plural: string): CreateOnlyResource | undefined {
  return unstoredResourceAt(CREATE_ONLY_RESOURCES, group, version, plural);
}

const BY_KIND = new Map(API_RESOURCES.map((r) => [r.kind, r] as const));
const BY_PATH = new Map(API_RESOURCES.map((r) => [`${r.group}/${r.version}/${r.plural}`, r] as const));

export function resourceOf(kind: Kind): ApiResource {
  return BY_KIND.get(kind)!;
}

/** The resource at /api/v1/<plural> (group "") or /apis/<group>/<version>/<plural>. */
export function resourceAt(group: string, version: string, plural: string): ApiResource | undefined {
  return BY_PATH.get(`${group}/${version}/${plural}`);
}

/** "deployments.apps", "pods": how the apiserver names a resource in error messages. */
export function qualifiedResource(r: ApiResource): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/** Group versions served, core first: ["v1", "apps/v1", …]. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of API_RESOURCES) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

/**
 * kubectl's resource argument: plural, singular, short name, Kind (any case), or
 * `plural.group` / `singular.group`.
 */
export function findResource(name: string): ApiResource | undefined {
  const lower = name.toLowerCase();
  for (const r of API_RESOURCES) {
    const names = [r.plural, r.singular, ...r.shortNames];
    if (names.includes(lower)) return r;
    if (r.group && (lower === `${r.plural}.${r.group}` || lower === `${r.singular}.${r.group}`)) return r;
  }
  return undefined;
}
