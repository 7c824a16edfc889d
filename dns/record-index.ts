/**
 * The in-memory index DNS answers from, fed by the Service, EndpointSlice, Pod and Namespace
 * informers (CoreDNS's controller.go). Incremental by recompute: any event for a service or
 * one of its slices rebuilds that service's record from the informer caches (its slices
 * through the service-name index; service-record.ts) and replaces it, with the reverse maps
 * updated from the old and new records.
 *
 * Change tracking for the response cache: every fact an answer can read has a dependency key
 * (`svc:ns/name`, `ns:ns`, `ip:addr`, `podip:addr`, `serial`), and each key carries the value
 * of a global clock at its last change. A cached answer stores the versions of the keys it
 * read and is valid while they are unchanged, so a change invalidates exactly the answers
 * that read the changed fact. Keys are never forgotten (a deleted service keeps its last
 * version), so an answer cached before a create/delete cycle cannot come back to life.
 *
 * Namespace existence (decision): a namespace exists if a Namespace object exists, or any
 * Service or Pod lives in it, or it is one of default, kube-system, kube-public and
 * kube-node-lease (which every cluster has). CoreDNS asks only for the Namespace object;
 * knet also accepts objects applied into a namespace nobody created.
 */
import type { Namespace, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Informer, InformerFactory } from '../dataplane/base/informer/informer-types.js';
import { parseIP } from './ip-address.js';
import { buildServiceRecord, type ServiceRecord } from './service-record.js';
import { indexSlicesByService, serviceKeyOfSlice, slicesOfService } from '../dataplane/base/informer/indexes.js';

export const ALWAYS_PRESENT_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** What the answer core reads. Lookups are case-sensitive on lower-case keys. */
export interface RecordView {
  hasSynced(): boolean;
  /** SOA serial: Unix seconds of the last DNS-relevant change. */
  serial(): number;
  namespaceExists(namespace: string): boolean;
  service(namespace: string, name: string): ServiceRecord | undefined;
  /** ClusterIP services holding this address, by "ns/name". */
  servicesByClusterIP(ip: string): ServiceRecord[];
  /** Ready endpoint addresses equal to ip: the service and the endpoint's DNS label. */
  endpointsByIP(ip: string): Array<{ service: ServiceRecord; hostname: string }>;
  /** Namespaces and names of pods with this IP (for `pods verified`). */
  podsByIP(ip: string): Array<{ namespace: string; name: string }>;
}

export interface DependencyVersions {
  /** The version of a dependency key; 0 if it never changed. */
  version(key: string): number;
  /** Changes whenever any key's version changes (the latest version given out). */
  generation(): number;
}

export interface RecordIndexOptions {
  /** Clock for the SOA serial, in milliseconds. */
  now?: () => number;
}

type Listener = () => void;

export class RecordIndex implements RecordView, DependencyVersions {
  private readonly services = new Map<string, ServiceRecord>();
  private readonly signatures = new Map<string, string>();
  private readonly clusterIPIndex = new Map<string, Set<string>>();
  /** ip → service key → endpoint labels */
  private readonly endpointIPIndex = new Map<string, Map<string, Set<string>>>();
  private readonly podIPIndex = new Map<string, Map<string, { namespace: string; name: string }>>();
  private readonly podIPs = new Map<string, string[]>();
  private readonly namespaceObjects = new Set<string>();
  private readonly serviceCount = new Map<string, number>();
  private readonly podCount = new Map<string, number>();
  private readonly versions = new Map<string, number>();
  private readonly listeners = new Set<Listener>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly svcInformer: Informer<Service>;
  private readonly sliceInformer: Informer<EndpointSlice>;
  private readonly podInformer: Informer<Pod>;
  private readonly nsInformer: Informer<Namespace>;
  private readonly now: () => number;
  private clock = 0;
  private serialValue: number;

  constructor(informers: InformerFactory, opts: RecordIndexOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.serialValue = Math.floor(this.now() / 1000);
    this.svcInformer = informers.informer<Service>('Service');
    this.sliceInformer = indexSlicesByService(informers.informer<EndpointSlice>('EndpointSlice'));
    this.podInformer = informers.informer<Pod>('Pod');
    this.nsInformer = informers.informer<Namespace>('Namespace');

    this.unsubscribe.push(
      this.nsInformer.on({
        add: (ns) => this.namespaceEvent(ns.metadata?.name, true),
        delete: (ns) => this.namespaceEvent(ns.metadata?.name, false),
      }),
      this.svcInformer.on({
        add: (s) => this.recompute(svcKey(s)),
        update: (_o, s) => this.recompute(svcKey(s)),
        delete: (s) => this.recompute(svcKey(s)),
      }),
      this.sliceInformer.on({
        add: (s) => this.sliceEvent(undefined, s),
        update: (o, s) => this.sliceEvent(o, s),
        delete: (s) => this.sliceEvent(s, undefined),
      }),
      this.podInformer.on({
        add: (p) => this.podEvent(p, true),
        update: (_o, p) => this.podEvent(p, true),
        delete: (p) => this.podEvent(p, false),
      }),
    );
    // Objects cached before we subscribed came as the informers' replay.
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.listeners.clear();
  }

  /** Called after every change that may alter an answer (tests and metrics hook in here). */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  hasSynced(): boolean {
    return (
      this.svcInformer.hasSynced() &&
      this.sliceInformer.hasSynced() &&
      this.podInformer.hasSynced() &&
      this.nsInformer.hasSynced()
    );
  }

  serial(): number {
    return this.serialValue;
  }

  version(key: string): number {
    return this.versions.get(key) ?? 0;
  }

  generation(): number {
    return this.clock;
  }

  namespaceExists(namespace: string): boolean {
    return (
      ALWAYS_PRESENT_NAMESPACES.includes(namespace) ||
      this.namespaceObjects.has(namespace) ||
      (this.serviceCount.get(namespace) ?? 0) > 0 ||
      (this.podCount.get(namespace) ?? 0) > 0
    );
  }

  service(namespace: string, name: string): ServiceRecord | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  servicesByClusterIP(ip: string): ServiceRecord[] {
    const keys = this.clusterIPIndex.get(ip);
    if (!keys) return [];
    return [...keys].sort().map((k) => this.services.get(k)!);
  }

  endpointsByIP(ip: string): Array<{ service: ServiceRecord; hostname: string }> {
    const bySvc = this.endpointIPIndex.get(ip);
    if (!bySvc) return [];
    const out: Array<{ service: ServiceRecord; hostname: string }> = [];
    for (const key of [...bySvc.keys()].sort()) {
      const service = this.services.get(key)!;
      for (const hostname of bySvc.get(key)!) out.push({ service, hostname });
    }
    return out;
  }

  podsByIP(ip: string): Array<{ namespace: string; name: string }> {
    const pods = this.podIPIndex.get(ip);
    return pods ? [...pods.values()] : [];
  }

  /** Number of services indexed (for stats). */
  size(): number {
    return this.services.size;
  }

  private bump(key: string): void {
    this.versions.set(key, ++this.clock);
  }

  private touchSerial(): void {
    const s = Math.floor(this.now() / 1000);
    if (s !== this.serialValue) {
      this.serialValue = s;
      this.bump('serial');
    }
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** Runs fn and bumps `ns:<ns>` if the namespace's existence flipped. */
  private trackNamespace(namespace: string, fn: () => void): void {
    const before = this.namespaceExists(namespace);
    fn();
    if (this.namespaceExists(namespace) !== before) this.bump(`ns:${namespace}`);
  }

  private namespaceEvent(name: string | undefined, present: boolean): void {
    if (!name) return;
    this.trackNamespace(name, () => {
      if (present) this.namespaceObjects.add(name);
      else this.namespaceObjects.delete(name);
    });
    this.changed();
  }

  /** A slice changed: its service (and the one it left, if its label changed) is rebuilt from the index. */
  private sliceEvent(oldSlice: EndpointSlice | undefined, newSlice: EndpointSlice | undefined): void {
    const touched = new Set<string>();
    for (const s of [oldSlice, newSlice]) {
      const key = s && serviceKeyOfSlice(s);
      if (key) touched.add(key);
    }
    for (const key of touched) this.recompute(key);
  }

  private recompute(key: string): void {
    const [namespace, name] = splitKey(key);
    const svc = this.svcInformer.get(namespace, name);
    const rec = svc ? buildServiceRecord(svc, slicesOfService(this.sliceInformer, namespace, name)) : undefined;
    const signature = rec ? JSON.stringify(rec) : '';
    if ((this.signatures.get(key) ?? '') === signature) return;
    const old = this.services.get(key);
    this.trackNamespace(namespace, () => {
      if (old) this.unindex(old);
      if (rec) {
        this.services.set(key, rec);
        this.signatures.set(key, signature);
        this.index(rec);
      } else {
        this.services.delete(key);
        this.signatures.delete(key);
      }
      if (!old !== !rec) this.serviceCount.set(namespace, (this.serviceCount.get(namespace) ?? 0) + (rec ? 1 : -1));
    });
    this.bump(`svc:${key}`);
    this.touchSerial();
    this.changed();
  }

  private index(rec: ServiceRecord): void {
    for (const { ip } of rec.clusterIPs) {
      let set = this.clusterIPIndex.get(ip);
      if (!set) this.clusterIPIndex.set(ip, (set = new Set()));
      set.add(rec.key);
      this.bump(`ip:${ip}`);
    }
    for (const ep of rec.endpoints) {
      let bySvc = this.endpointIPIndex.get(ep.ip);
      if (!bySvc) this.endpointIPIndex.set(ep.ip, (bySvc = new Map()));
      let names = bySvc.get(rec.key);
      if (!names) bySvc.set(rec.key, (names = new Set()));
      names.add(ep.hostname);
      this.bump(`ip:${ep.ip}`);
    }
  }

  private unindex(rec: ServiceRecord): void {
    for (const { ip } of rec.clusterIPs) {
      const set = this.clusterIPIndex.get(ip);
      set?.delete(rec.key);
      if (set?.size === 0) this.clusterIPIndex.delete(ip);
      this.bump(`ip:${ip}`);
    }
    for (const ep of rec.endpoints) {
      const bySvc = this.endpointIPIndex.get(ep.ip);
      bySvc?.delete(rec.key);
      if (bySvc?.size === 0) this.endpointIPIndex.delete(ep.ip);
      this.bump(`ip:${ep.ip}`);
    }
  }

  private podEvent(pod: Pod, present: boolean): void {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const oldIPs = this.podIPs.get(key);
    const newIPs = present ? podAddresses(pod) : undefined;
    if (oldIPs && newIPs && oldIPs.join(',') === newIPs.join(',')) return;
    this.trackNamespace(namespace, () => {
      for (const ip of oldIPs ?? []) {
        const m = this.podIPIndex.get(ip);
        m?.delete(key);
        if (m?.size === 0) this.podIPIndex.delete(ip);
        this.bump(`podip:${ip}`);
      }
      for (const ip of newIPs ?? []) {
        let m = this.podIPIndex.get(ip);
        if (!m) this.podIPIndex.set(ip, (m = new Map()));
        m.set(key, { namespace, name });
        this.bump(`podip:${ip}`);
      }
      if (newIPs) this.podIPs.set(key, newIPs);
      else this.podIPs.delete(key);
      if (!oldIPs !== !newIPs) this.podCount.set(namespace, (this.podCount.get(namespace) ?? 0) + (newIPs ? 1 : -1));
    });
    this.touchSerial();
    this.changed();
  }
}

function svcKey(s: Service): string {
  return `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function podAddresses(pod: Pod): string[] {
  const texts = pod.status?.podIPs?.map((p) => p.ip) ?? (pod.status?.podIP ? [pod.status.podIP] : []);
  const out: string[] = [];
  for (const t of texts) {
    const ip = parseIP(t ?? "");
    if (ip && !out.includes(ip.text)) out.push(ip.text);
  }
  return out;
}
