/**
 * Discovery, the documents clients read before anything else (k8s.io/apimachinery
 * pkg/apis/meta/v1 types and k8s.io/api/apidiscovery): `/version`, the legacy `/api`, `/apis`,
 * `/apis/GROUP` and the APIResourceLists, and the aggregated APIGroupDiscoveryList (v2 and
 * v2beta1) that kubectl asks for first. All from model/api-resources.ts; pure.
 *
 * Each resource is listed before its subresources: @kubernetes/client-node takes the first
 * entry whose kind matches.
 */
import { API_RESOURCES, COMPUTED_RESOURCES, CREATE_ONLY_RESOURCES, type ApiResource } from '../base/model/api-resources.js';
import { KUBE_VERSION } from '../base/model/kube-version.js';

/** What discovery lists: every stored kind's resource, the computed ones (componentstatuses), then the create-only ones (TokenReview). */
type Served = Omit<ApiResource, 'kind' | 'verbs'> & { kind: string; verbs: string[]; stored: boolean };
const SERVED: readonly Served[] = [
  ...API_RESOURCES.map((r) => ({ ...r, stored: true })),
  ...COMPUTED_RESOURCES.map((r) => ({ ...r, verbs: [...r.verbs], categories: [], subresources: [], stored: false })),
  ...CREATE_ONLY_RESOURCES.map((r) => ({ ...r, verbs: [...r.verbs], shortNames: [], categories: [], subresources: [], stored: false })),
];

/** Group versions served, core first. */
function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of SERVED) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

export { KUBE_VERSION };

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'knet',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

const gvString = (group: string, version: string) => (group ? `${group}/${version}` : version);

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: gvString(gv.group, gv.version), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) };
}

/** /apis/GROUP, or undefined when no such group is served. */
export function apiGroupDocument(group: string): Record<string, unknown> | undefined {
  if (group === '' || !groupVersions().some((gv) => gv.group === group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) };
}

function resourceEntries(r: Served): Array<Record<string, unknown>> {
  const main: Record<string, unknown> = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.stored ? { storageVersionHash: storageVersionHash(r) } : {}),
  };
  const subs = r.subresources.map((s) => ({
    name: `${r.plural}/${s.name}`,
    singularName: '',
    namespaced: r.namespaced,
    ...(s.group !== undefined && s.group !== r.group ? { group: s.group } : {}),
    ...(s.version !== undefined && (s.version !== r.version || (s.group !== undefined && s.group !== r.group)) ? { version: s.version } : {}),
    kind: s.kind ?? r.kind,
    verbs: s.verbs,
  }));
  return [main, ...subs];
}

/** /api/v1 or /apis/GROUP/VERSION, or undefined when not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const resources = SERVED.filter((r) => r.group === group && r.version === version);
  if (!resources.length) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvString(group, version), resources: resources.flatMap(resourceEntries) };
}

function discoveryResource(r: Served): Record<string, unknown> {
  return {
    resource: r.plural,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length
      ? {
          subresources: r.subresources.map((s) => ({
            subresource: s.name,
            responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind ?? r.kind },
            verbs: s.verbs,
          })),
        }
      : {}),
  };
}

/**
 * The aggregated discovery document: `/api` holds the core group (named ""), `/apis` every
 * other group, each with its versions and their resources.
 */
export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1'): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => (core ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((group) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: groupVersions()
        .filter((gv) => gv.group === group)
        .map((gv) => ({
          version: gv.version,
          resources: SERVED.filter((r) => r.group === group && r.version === gv.version).map(discoveryResource),
          freshness: 'Current',
        })),
    })),
  };
}

/** A stable hash of the resource's identity, as the apiserver publishes one per storage version. */
function storageVersionHash(r: Served): string {
  let h = 2166136261;
  for (const c of `${r.group}/${r.version}/${r.kind}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return Buffer.from(h.toString(16).padStart(8, '0')).toString('base64').slice(0, 11);
}
