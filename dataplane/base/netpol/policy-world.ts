/**
 * The cache every NetworkPolicy enforcement point reads (the node agent at accept, kube-proxy
 * before it connects to an endpoint, the ingress controller, the DNS server, commands run in a
 * pod): policies by namespace, pods and nodes by IP, namespace labels — fed by informers — and
 * verdicts remembered by (source, destination, port, protocol) until anything they depend on
 * changes. Verdicts are remembered by the peers' identities (identity.ts), not their addresses:
 * pods no policy can tell apart share a verdict, so decide() runs once per pair of identities.
 * A cluster without policies answers "allowed" without building anything.
 *
 * The decision itself is decide.ts; this file only finds the peers and remembers answers, so
 * `knet netpol matrix|why` and the data plane cannot disagree.
 */
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { InformerFactory, Informer } from '../informer/informer-types.js';
import type { KObject } from '../model/object.js';
import type { Labels } from '../model/selector.js';
import { Identities } from './identity.js';
import { decide, selectionOf, type Direction, type PolicySource, type Selection, type Verdict } from './decide.js';
import type { NamedPort, Peer, PodPeer, Protocol } from './peer.js';

type Obj<T> = T & KObject;

const MAX_REMEMBERED = 100_000;
/** Identities are numbered below this (a cluster would need a million distinct peers to reach it; beyond, checks are not remembered). */
const IDENTITY_LIMIT = 1 << 20;
/** Addresses outside the cluster whose identity is remembered (a scan must not grow it without end). */
const MAX_EXTERNAL = 100_000;
const PROTOCOL_INDEX: Record<Protocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

/** Counted per policy and direction: connections and datagrams a policy's isolation denied. */
export interface DenyCounter {
  (policy: string, direction: 'Ingress' | 'Egress'): void;
}

export interface PolicyWorldOptions {
  /**
   * Components knet runs as processes that a cluster runs as pods (system-peers.ts): the DNS
   * server at kube-dns's ClusterIP, the ingress controller at its source address.
   */
  systemPeers?: readonly PodPeer[];
}

export class PolicyWorld implements PolicySource {
  private readonly policies: Informer<Obj<NetworkPolicy>>;
  private readonly pods: Informer<Obj<Pod>>;
  private readonly namespaces: Informer<Obj<Namespace>>;
  private readonly nodes: Informer<Obj<Node>>;
  private byNamespace: Map<string, NetworkPolicy[]> | undefined;
  private peersByIp: Map<string, Peer> | undefined;
  /** The identities of the current policies and peers, and each address's (made when first asked). */
  private identities: Identities | undefined;
  private identityByIp = new Map<string, number>();
  /** Remembered verdicts: port × protocol → the pair of identities (pairKey). */
  private verdicts = new Map<number, Map<number, Verdict>>();
  private remembered = 0;
  /** The policies selecting each pod peer, per direction (peers are rebuilt when pods change). */
  private selections = new WeakMap<PodPeer, { Ingress?: Selection; Egress?: Selection }>();
  /** Namespace labels by name (an informer lookup builds a key string per call; this is asked per namespaceSelector rule). */
  private namespaceLabelsByName = new Map<string, Labels>();
  private readonly systemPeers: readonly PodPeer[];
  private readonly listeners = new Set<() => void>();
  private enforcingNow: boolean | undefined;
  /** Bumped on every change that can alter a verdict; enforcement points may watch it. */
  generation = 0;

  constructor(informers: InformerFactory, opts: PolicyWorldOptions = {}) {
    this.systemPeers = opts.systemPeers ?? [];
    this.policies = informers.informer<Obj<NetworkPolicy>>('NetworkPolicy');
    this.pods = informers.informer<Obj<Pod>>('Pod');
    this.namespaces = informers.informer<Obj<Namespace>>('Namespace');
    this.nodes = informers.informer<Obj<Node>>('Node');
    const policiesChanged = () => {
      this.byNamespace = undefined;
      // The policies' ipBlocks are part of every identity.
      this.peersByIp = undefined;
      this.selections = new WeakMap();
      this.enforcingNow = undefined;
      this.forget();
    };
    const peersChanged = () => {
      this.peersByIp = undefined;
      this.forget();
    };
    this.policies.on({ add: policiesChanged, update: policiesChanged, delete: policiesChanged });
    const namespacesChanged = () => {
      this.namespaceLabelsByName = new Map();
      this.forget();
    };
    this.namespaces.on({ add: namespacesChanged, update: (a, b) => !sameLabels(a.metadata?.labels, b.metadata?.labels) && namespacesChanged(), delete: namespacesChanged });
    // A pod's status changes often; only its IP, labels, ports or node change a verdict.
    this.pods.on({ add: peersChanged, update: (a, b) => !samePeer(a, b) && peersChanged(), delete: peersChanged });
    this.nodes.on({ add: peersChanged, delete: peersChanged });
  }

  /** Whether any NetworkPolicy exists: without one, everything is allowed and nothing is looked up. */
  get enforcing(): boolean {
    // Remembered: an informer's list() copies its cache, and this is asked per connection.
    this.enforcingNow ??= this.policies.list().length > 0;
    return this.enforcingNow;
  }

  /**
   * Calls `listener` after every change that can alter a verdict (a policy, a pod's address or
   * labels, a namespace's labels, a node), synchronously in the informer's event order, so an
   * enforcement point can re-check what it holds. Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The verdict for a connection from `srcIp` to `dstIp:port/protocol`, remembered until something changes. */
  check(srcIp: string, dstIp: string, port: number, protocol: Protocol = 'TCP'): Verdict {
    // Maps keyed by numbers, port first, then the two identities as one number: a remembered
    // verdict is found with two lookups and no allocation (this runs per connection; measured:
    // building string keys, then a map per address pair, were most of a check's cost).
    const src = this.identityOf(srcIp);
    const dst = this.identityOf(dstIp);
    if (src >= IDENTITY_LIMIT || dst >= IDENTITY_LIMIT) return decide(this.peer(srcIp), this.peer(dstIp), port, protocol, this);
    const portKey = port * 4 + PROTOCOL_INDEX[protocol];
    let byPort = this.verdicts.get(portKey);
    if (!byPort) this.verdicts.set(portKey, (byPort = new Map()));
    const pair = src * IDENTITY_LIMIT + dst;
    let v = byPort.get(pair);
    if (!v) {
      v = decide(this.peer(srcIp), this.peer(dstIp), port, protocol, this);
      // Bounded: a scan from many addresses must not grow the cache without end.
      if (++this.remembered > MAX_REMEMBERED) this.forgetVerdicts();
      byPort.set(pair, v);
    }
    return v;
  }

  /** The identity of an address: its peer's, found once per address while peers and policies stay. */
  identityOf(ip: string): number {
    this.peersByIp ??= this.indexPeers();
    let id = this.identityByIp.get(ip);
    if (id === undefined) {
      this.identities ??= new Identities(this.policies.list());
      const peer = this.peersByIp.get(ip);
      id = this.identities.of(peer ?? { kind: 'external', ip });
      if (!peer && this.identityByIp.size > MAX_EXTERNAL + this.peersByIp.size) this.identityByIp.clear();
      this.identityByIp.set(ip, id);
    }
    return id;
  }

  /** The components taken for pods (system-peers.ts). */
  systemPeerList(): readonly PodPeer[] {
    return this.systemPeers;
  }

  /** Who an address is: a pod (by its pod IP), a node (by its address), or outside the cluster. */
  peer(ip: string): Peer {
    this.peersByIp ??= this.indexPeers();
    return this.peersByIp.get(ip) ?? { kind: 'external', ip };
  }

  policiesIn(namespace: string): readonly NetworkPolicy[] {
    if (!this.byNamespace) {
      this.byNamespace = new Map();
      for (const p of this.policies.list()) {
        const ns = p.metadata?.namespace ?? 'default';
        const list = this.byNamespace.get(ns) ?? [];
        list.push(p);
        this.byNamespace.set(ns, list);
      }
      // By name, so verdicts list their policies in a stable order.
      for (const list of this.byNamespace.values()) list.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    }
    return this.byNamespace.get(namespace) ?? [];
  }

  selection(pod: PodPeer, direction: Direction): Selection {
    let mine = this.selections.get(pod);
    if (!mine) this.selections.set(pod, (mine = {}));
    return (mine[direction] ??= selectionOf(pod, direction, this));
  }

  namespaceLabels(namespace: string): Labels {
    let labels = this.namespaceLabelsByName.get(namespace);
    if (labels === undefined && !this.namespaceLabelsByName.has(namespace)) {
      labels = this.namespaces.get(undefined, namespace)?.metadata?.labels as Labels;
      this.namespaceLabelsByName.set(namespace, labels);
    }
    return labels;
  }

  private forgetVerdicts(): void {
    this.verdicts = new Map();
    this.remembered = 0;
  }

  private forget(): void {
    this.forgetVerdicts();
    this.generation++;
    for (const l of this.listeners) l();
  }

  private indexPeers(): Map<string, Peer> {
    // Identities hold what the peers are: made anew with them, when first asked.
    this.identities = undefined;
    this.identityByIp = new Map();
    const peers = new Map<string, Peer>();
    for (const p of this.systemPeers) peers.set(p.ip, p);
    const nodeIPs = new Map<string, string>();
    for (const n of this.nodes.list()) {
      const ip = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (!ip) continue;
      nodeIPs.set(n.metadata?.name ?? '', ip);
      peers.set(ip, { kind: 'node', ip, name: n.metadata?.name ?? '' });
    }
    for (const p of this.pods.list()) {
      const ip = p.status?.podIP;
      // hostNetwork pods share their node's address: their traffic is the node's.
      if (!ip || p.spec?.hostNetwork || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      peers.set(ip, podPeer(p, ip, nodeIPs.get(p.spec?.nodeName ?? '')));
    }
    return peers;
  }
}

function podPeer(p: Pod & KObject, ip: string, nodeIP: string | undefined): PodPeer {
  const ports: NamedPort[] = [];
  for (const c of p.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name) ports.push({ name: cp.name, port: cp.containerPort, protocol: (cp.protocol ?? 'TCP') as Protocol });
  }
  return { kind: 'pod', ip, namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', labels: p.metadata?.labels as Labels, nodeIP, ports };
}

/**
 * Whether two versions of a pod are the same peer: what a verdict depends on (address, whether
 * it still runs, node, labels, hostNetwork) — compared field by field, since every component's
 * PolicyWorld sees every pod status update (container ports are immutable).
 */
function samePeer(a: Pod & KObject, b: Pod & KObject): boolean {
  const terminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  return a.status?.podIP === b.status?.podIP && terminal(a) === terminal(b) && a.spec?.nodeName === b.spec?.nodeName && a.spec?.hostNetwork === b.spec?.hostNetwork && sameLabels(a.metadata?.labels, b.metadata?.labels);
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}
