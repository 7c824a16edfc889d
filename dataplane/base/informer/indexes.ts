/**
 * The named indexes components declare on their informers, and the lookups built on them —
 * client-go's cache.NamespaceIndex and the indexers kube-controller-manager, kube-proxy and
 * CoreDNS add (by owner UID, by node name, EndpointSlices by their Service, labels by value).
 * One definition each, so "the slices of Service default/web" is written once.
 */
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KINDS, isKind, type KObject } from '../model/object.js';
import { LABEL_SERVICE_NAME } from '../model/well-known.js';
import type { IndexFunc } from './indexer.js';
import type { Informer } from './informer-types.js';

/** Every informer has it (as client-go's informer factory adds it): namespaced objects by namespace. */
export const NAMESPACE_INDEX = 'namespace';
/** Objects by the uid of each of their ownerReferences: an owner's dependents. */
export const OWNER_UID_INDEX = 'metadata.ownerReferences.uid';
/** Pods by the node they are bound to. */
export const NODE_NAME_INDEX = 'spec.nodeName';

/** The namespace an object lives in ('' for cluster-scoped kinds; 'default' when a namespaced object omits it). */
export function namespaceOf(obj: KObject): string {
  const kind = obj.kind ?? '';
  if (isKind(kind) && !KINDS[kind].namespaced) return '';
  return obj.metadata?.namespace || 'default';
}

export const indexByNamespace: IndexFunc = (obj) => {
  const ns = namespaceOf(obj);
  return ns ? [ns] : [];
};

export const indexByOwnerUID: IndexFunc = (obj) => {
  const refs = obj.metadata?.ownerReferences;
  if (!refs?.length) return [];
  return refs.length === 1 ? [refs[0]!.uid] : [...new Set(refs.map((r) => r.uid))];
};

export const indexByNodeName: IndexFunc = (obj) => {
  const node = (obj as Pod).spec?.nodeName;
  return node ? [node] : [];
};

// ---- label values, on demand -------------------------------------------------------------

/** The index of label `key`'s values: objects under `<namespace>/<value>`. */
export function labelIndexName(key: string): string {
  return `label:${key}`;
}

/** The value a label index files an object under: its namespace and the label's value. */
export function labelIndexValue(namespace: string | undefined, value: string): string {
  return `${namespace ?? ''}/${value}`;
}

const labelIndexFuncs = new Map<string, IndexFunc>();

/** The index function of label `key` (one function per key, so declaring it twice is a no-op). */
export function labelIndexFunc(key: string): IndexFunc {
  let fn = labelIndexFuncs.get(key);
  if (!fn) {
    fn = (obj) => {
      const v = obj.metadata?.labels?.[key];
      return v === undefined ? [] : [labelIndexValue(namespaceOf(obj), v)];
    };
    labelIndexFuncs.set(key, fn);
  }
  return fn;
}

/** Declares the index of label `key` on an informer if it has none yet; returns its name. */
export function ensureLabelIndex(informer: Informer, key: string): string {
  const name = labelIndexName(key);
  informer.addIndexers({ [name]: labelIndexFunc(key) });
  return name;
}

/**
 * The objects of one namespace whose labels include every pair of an equality selector (a
 * Service's `spec.selector`): read through the label index of the selector's rarest key, so
 * the cost is that key's matches, not the namespace's objects. Indexes are declared on demand.
 * An empty selector selects nothing (as a Service's does).
 */
export function selectByLabels<T extends KObject>(informer: Informer<T>, namespace: string, selector: Record<string, string> | undefined): T[] {
  const pairs = Object.entries(selector ?? {});
  if (pairs.length === 0) return [];
  let best: { name: string; value: string; count: number } | undefined;
  for (const [k, v] of pairs) {
    const name = ensureLabelIndex(informer as Informer, k);
    const value = labelIndexValue(namespace, v);
    const count = informer.countByIndex(name, value);
    if (count === 0) return [];
    if (!best || count < best.count) best = { name, value, count };
  }
  const candidates = informer.byIndex(best!.name, best!.value);
  if (pairs.length === 1) return candidates;
  return candidates.filter((o) => pairs.every(([k, v]) => o.metadata?.labels?.[k] === v));
}

// ---- EndpointSlice → Service ---------------------------------------------------------------

/** EndpointSlices by the Service they belong to (`kubernetes.io/service-name`), as `<namespace>/<service>`. */
export const SERVICE_NAME_INDEX = labelIndexName(LABEL_SERVICE_NAME);
export const indexByServiceName: IndexFunc = labelIndexFunc(LABEL_SERVICE_NAME);

/** `<namespace>/<service>`: the key the service-name index files a Service's slices under. */
export function serviceKey(namespace: string | undefined, name: string): string {
  return labelIndexValue(namespace || 'default', name);
}

/** The `<namespace>/<service>` a slice belongs to, or undefined for a slice without the label. */
export function serviceKeyOfSlice(slice: EndpointSlice): string | undefined {
  return indexByServiceName(slice)[0];
}

/** Declares the service-name index on an EndpointSlice informer (idempotent). */
export function indexSlicesByService<I extends Informer<EndpointSlice>>(slices: I): I {
  slices.addIndexers({ [SERVICE_NAME_INDEX]: indexByServiceName });
  return slices;
}

/** The EndpointSlices of one Service, through the service-name index. */
export function slicesOfService(slices: Informer<EndpointSlice>, namespace: string | undefined, name: string): EndpointSlice[] {
  return slices.byIndex(SERVICE_NAME_INDEX, serviceKey(namespace, name));
}

/** A Service's EndpointSlices by namespace and name: the pure cores' view of the service-name index. */
export type SlicesOfService = (namespace: string | undefined, name: string) => readonly EndpointSlice[];

/** The lookup for an informer (through its index), or for a plain list (grouped once). */
export function slicesLookup(slices: Informer<EndpointSlice> | readonly EndpointSlice[]): SlicesOfService {
  if (Array.isArray(slices)) return groupSlicesByService(slices as readonly EndpointSlice[]);
  const informer = indexSlicesByService(slices as Informer<EndpointSlice>);
  return (namespace, name) => slicesOfService(informer, namespace, name);
}

/** A service-name lookup over a plain list (printers and waits that read the store, not an informer). */
export function groupSlicesByService(slices: readonly EndpointSlice[]): (namespace: string | undefined, name: string) => EndpointSlice[] {
  const groups = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const k = serviceKeyOfSlice(s);
    if (!k) continue;
    const list = groups.get(k);
    if (list) list.push(s);
    else groups.set(k, [s]);
  }
  return (namespace, name) => groups.get(serviceKey(namespace, name)) ?? [];
}

// ---- owners and nodes ----------------------------------------------------------------------

/** Declares the owner-UID index (idempotent). */
export function indexByOwner<T extends KObject, I extends Informer<T> = Informer<T>>(informer: I & Informer<T>): I {
  informer.addIndexers({ [OWNER_UID_INDEX]: indexByOwnerUID as IndexFunc<T> });
  return informer;
}

/** Objects with an ownerReference to `owner` (any, controller or not). */
export function dependentsOf<T extends KObject>(informer: Informer<T>, owner: KObject): T[] {
  const uid = owner.metadata?.uid;
  return uid ? informer.byIndex(OWNER_UID_INDEX, uid) : [];
}

/** Objects whose controller reference (controller: true) names `owner`. */
export function controlledBy<T extends KObject>(informer: Informer<T>, owner: KObject): T[] {
  const uid = owner.metadata?.uid;
  if (!uid) return [];
  return informer.byIndex(OWNER_UID_INDEX, uid).filter((o) => o.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid));
}

/** Declares the node-name index on a Pod informer (idempotent). */
export function indexPodsByNode<I extends Informer<Pod>>(pods: I): I {
  pods.addIndexers({ [NODE_NAME_INDEX]: indexByNodeName as IndexFunc<Pod> });
  return pods;
}

export function podsOnNode(pods: Informer<Pod>, nodeName: string): Pod[] {
  return pods.byIndex(NODE_NAME_INDEX, nodeName);
}

export function inNamespace<T extends KObject>(informer: Informer<T>, namespace: string): T[] {
  return informer.byIndex(NAMESPACE_INDEX, namespace);
}
