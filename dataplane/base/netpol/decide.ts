/**
 * NetworkPolicy's decision, as the API defines it (networking.k8s.io/v1 and the upstream
 * network-policy e2e tests' truth tables), in one pure function every enforcement point and
 * `knet netpol matrix|why` share:
 *
 *  - a pod is isolated for ingress (egress) once any policy in its namespace selects it with
 *    Ingress (Egress) in its policyTypes; a pod no policy selects is not isolated;
 *  - an isolated direction allows what the union of the selecting policies' rules allows: a rule
 *    matches when one of its peers matches (an empty or missing list: every peer) and one of its
 *    ports matches (empty or missing: every port);
 *  - a peer is an ipBlock (the address, minus `except`), or a podSelector (pods of the policy's
 *    namespace), a namespaceSelector (pods of matching namespaces), or both (ANDed); only pods
 *    match selectors;
 *  - a named port resolves against the destination pod's container ports; `endPort` makes a range;
 *  - traffic from a pod's own node into the pod is always allowed (kubelet probes; the API
 *    documentation: "the only allowed connections into the pod are those from the pod's node and
 *    those allowed by the ingress list");
 *  - a connection is allowed when the source's egress and the destination's ingress both allow
 *    it; replies to an allowed connection pass (checked once, at connect, so they do by construction).
 */
import type { NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { labelSelectorRequirements, matchesRequirements, type Labels, type Requirement } from '../model/selector.js';
import { ipToInt, isIPv4, parseCidr, type Cidr } from '../net/ip.js';
import type { Peer, PodPeer, Protocol } from './peer.js';

export type Direction = 'Ingress' | 'Egress';

/** What the decision needs to know of the cluster besides the two peers. */
export interface PolicySource {
  /** The NetworkPolicies of a namespace. */
  policiesIn(namespace: string): readonly NetworkPolicy[];
  /** A namespace's labels (undefined: no such namespace). */
  namespaceLabels(namespace: string): Labels;
  /**
   * `selectionOf(pod, direction)`, remembered while the pod and the policies stay the same: a
   * source that answers many checks keeps it, so a first check only walks the selecting
   * policies' rules. Without it, every check computes it.
   */
  selection?(pod: PodPeer, direction: Direction): Selection;
}

/**
 * The policies that select a pod for one direction (the pod is isolated when there is one), and
 * the verdicts a check can end in, each made once: a first check of a (source, destination,
 * port) then allocates nothing but what a memo keeps.
 */
export interface Selection {
  policies: readonly NetworkPolicy[];
  /** Their names, as verdicts list them. */
  names: readonly string[];
  /** Every rule of those policies for this direction, in order (an allowed verdict lists some). */
  rules: readonly RuleRef[];
  /** When none of the rules allows a connection. */
  denied: DirectionVerdict;
  /** When none allows it, but it comes from the pod's own node (ingress only). */
  fromOwnNode: DirectionVerdict;
  /** Allowed verdicts by the rules that allow, a bit per rule (the first 31 rules). */
  allowed: Map<number, DirectionVerdict>;
}

/** One rule that allowed a direction: `x/allow-b` ingress rule 0. */
export interface RuleRef {
  policy: string;
  direction: Direction;
  rule: number;
}

export interface DirectionVerdict {
  allowed: boolean;
  /** The policies that select the pod for this direction (empty: not isolated). */
  isolatedBy: readonly string[];
  /** The rules that allow the connection, when isolated and allowed. */
  allowedBy: RuleRef[];
  /** Why, in a sentence: "not isolated", "from its own node", "allowed by …", "no rule of … allows it". */
  reason: string;
}

export interface Verdict {
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
}

/** Whether `src` may open a connection to `dst` on `port`/`protocol`, and why. */
export function decide(src: Peer, dst: Peer, port: number, protocol: Protocol, policies: PolicySource): Verdict {
  const egress = src.kind === 'pod' ? decideDirection('Egress', src, dst, dst, port, protocol, policies) : SOURCE_NOT_A_POD;
  const ingress = dst.kind === 'pod' ? decideDirection('Ingress', dst, src, dst, port, protocol, policies) : DESTINATION_NOT_A_POD;
  return verdictOf(egress, ingress);
}

/**
 * One direction for the pod `subject` (the destination for Ingress, the source for Egress):
 * `other` is the far end, `dst` the destination whose named ports a policy's ports refer to.
 */
function decideDirection(direction: Direction, subject: PodPeer, other: Peer, dst: Peer, port: number, protocol: Protocol, policies: PolicySource): DirectionVerdict {
  const selection = policies.selection?.(subject, direction) ?? selectionOf(subject, direction, policies);
  if (selection.policies.length === 0) return NO_POLICY_SELECTS_IT;
  // Plain loops and a bit per allowing rule: this runs on the first connection of every
  // (source, destination, port), and allocation was most of its cost (measured).
  let mask = 0;
  let beyondMask: RuleRef[] | undefined;
  let k = 0;
  for (const p of selection.policies) {
    const namespace = p.metadata?.namespace ?? 'default';
    const rules = (direction === 'Ingress' ? p.spec?.ingress : p.spec?.egress) ?? [];
    for (let i = 0; i < rules.length; i++, k++) {
      const r = rules[i]!;
      const peers = direction === 'Ingress' ? (r as NetworkPolicyIngressRule).from : (r as NetworkPolicyEgressRule).to;
      if (!peersMatch(peers, other, namespace, policies) || !portsMatch(r.ports, dst, port, protocol)) continue;
      if (k < 31) mask |= 1 << k;
      else (beyondMask ??= []).push(selection.rules[k]!);
    }
  }
  if (mask === 0 && !beyondMask) {
    // The API: "the only allowed connections into the pod are those from the pod's node and those allowed by the ingress list".
    return direction === 'Ingress' && subject.nodeIP !== undefined && other.ip === subject.nodeIP ? selection.fromOwnNode : selection.denied;
  }
  if (beyondMask) return new AllowedVerdict(selection.names, [...rulesIn(selection, mask), ...beyondMask]);
  let verdict = selection.allowed.get(mask);
  if (!verdict) selection.allowed.set(mask, (verdict = new AllowedVerdict(selection.names, rulesIn(selection, mask))));
  return verdict;
}

/** The selection's rules with their bit set in `mask`. */
function rulesIn(selection: Selection, mask: number): RuleRef[] {
  return selection.rules.filter((_, i) => i < 31 && (mask & (1 << i)) !== 0);
}

/** The policies of the pod's namespace that select it for `direction`, in the source's order. */
export function selectionOf(subject: PodPeer, direction: Direction, policies: PolicySource): Selection {
  const selecting = policies.policiesIn(subject.namespace).filter((p) => appliesTo(p, direction) && selects(p.spec?.podSelector ?? EVERYTHING, subject.labels));
  const names = selecting.map(policyName);
  const rules = selecting.flatMap((p, j) => ((direction === 'Ingress' ? p.spec?.ingress : p.spec?.egress) ?? []).map((_, rule) => ({ policy: names[j]!, direction, rule })));
  const denied = Object.freeze({ allowed: false, isolatedBy: names, allowedBy: [], reason: `isolated by ${names.join(', ')}; no ${direction.toLowerCase()} rule allows it` });
  return { policies: selecting, names, rules, denied, fromOwnNode: Object.freeze({ ...denied, allowed: true, reason: "from the pod's own node (always allowed)" }), allowed: new Map() };
}

/** An allowed, isolated direction; its sentence is only written when asked for (logs, `netpol why`). */
class AllowedVerdict implements DirectionVerdict {
  readonly allowed = true;
  constructor(
    readonly isolatedBy: readonly string[],
    readonly allowedBy: RuleRef[],
  ) {
    Object.freeze(this);
  }
  get reason(): string {
    return `allowed by ${this.allowedBy.map(ruleName).join(', ')}`;
  }
}

/** One verdict object per pair of direction verdicts (most of which are shared), so a memo of them holds no copies. */
const verdicts = new WeakMap<DirectionVerdict, WeakMap<DirectionVerdict, Verdict>>();

function verdictOf(egress: DirectionVerdict, ingress: DirectionVerdict): Verdict {
  let byIngress = verdicts.get(egress);
  if (!byIngress) verdicts.set(egress, (byIngress = new WeakMap()));
  let v = byIngress.get(ingress);
  if (!v) byIngress.set(ingress, (v = Object.freeze({ allowed: egress.allowed && ingress.allowed, egress, ingress })));
  return v;
}

function notIsolated(why: string): DirectionVerdict {
  return Object.freeze({ allowed: true, isolatedBy: [], allowedBy: [], reason: `not isolated (${why})` }) as DirectionVerdict;
}

const EVERYTHING: LabelSelector = {};
const NO_POLICY_SELECTS_IT = notIsolated('no policy selects it');
const SOURCE_NOT_A_POD = notIsolated('the source is not a pod');
const DESTINATION_NOT_A_POD = notIsolated('the destination is not a pod');

/** policyTypes as the apiserver defaults them: Ingress always, Egress when there are egress rules. */
export function policyTypes(p: NetworkPolicy): Direction[] {
  const explicit = p.spec?.policyTypes as Direction[] | undefined;
  if (explicit && explicit.length) return explicit;
  return (p.spec?.egress?.length ?? 0) > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

function appliesTo(p: NetworkPolicy, direction: Direction): boolean {
  const explicit = p.spec?.policyTypes;
  if (explicit && explicit.length) return explicit.includes(direction);
  return direction === 'Ingress' || (p.spec?.egress?.length ?? 0) > 0;
}

function peersMatch(peers: NetworkPolicyPeer[] | undefined, other: Peer, policyNamespace: string, policies: PolicySource): boolean {
  if (!peers || peers.length === 0) return true;
  // Loops rather than some(): no closure per call on the first check's path.
  for (const peer of peers) if (peerMatches(peer, other, policyNamespace, policies)) return true;
  return false;
}

function peerMatches(peer: NetworkPolicyPeer, other: Peer, policyNamespace: string, policies: PolicySource): boolean {
  if (peer.ipBlock) {
    const { cidr, except } = peer.ipBlock;
    if (!inCidr(cidr, other.ip)) return false;
    for (const e of except ?? []) if (inCidr(e, other.ip)) return false;
    return true;
  }
  if (other.kind !== 'pod') return false;
  if (peer.namespaceSelector) {
    if (!selects(peer.namespaceSelector, policies.namespaceLabels(other.namespace))) return false;
  } else if (other.namespace !== policyNamespace) {
    return false;
  }
  return peer.podSelector ? selects(peer.podSelector, other.labels) : true;
}

/**
 * A selector's requirements, parsed once per selector object: policies come from informer
 * caches, whose objects are replaced on change, never mutated, so the object is the key.
 */
const requirementsOf = new WeakMap<LabelSelector, Requirement[] | null>();

function selects(sel: LabelSelector, labels: Labels): boolean {
  let reqs = requirementsOf.get(sel);
  if (reqs === undefined) {
    reqs = labelSelectorRequirements(sel) ?? null;
    requirementsOf.set(sel, reqs);
  }
  return reqs !== null && matchesRequirements(reqs, labels);
}

/** Parsed CIDRs (null: IPv6 — knet's addresses are IPv4, so such a block matches none of them). */
const cidrs = new Map<string, Cidr | null>();
/** Addresses as numbers (null: not IPv4), so a peer's address is parsed once, not per ipBlock. */
const addresses = new Map<string, number | null>();

function inCidr(cidr: string, ip: string): boolean {
  let c = cidrs.get(cidr);
  if (c === undefined) {
    c = cidr.includes(':') ? null : parseCidr(cidr);
    if (cidrs.size > 10_000) cidrs.clear();
    cidrs.set(cidr, c);
  }
  let n = addresses.get(ip);
  if (n === undefined) {
    n = isIPv4(ip) ? ipToInt(ip) : null;
    if (addresses.size > 100_000) addresses.clear();
    addresses.set(ip, n);
  }
  return c !== null && n !== null && n >= c.base && n < c.base + c.size;
}

function portsMatch(ports: NetworkPolicyPort[] | undefined, dst: Peer, port: number, protocol: Protocol): boolean {
  if (!ports || ports.length === 0) return true;
  for (const p of ports) if (portMatches(p, dst, port, protocol)) return true;
  return false;
}

function portMatches(p: NetworkPolicyPort, dst: Peer, port: number, protocol: Protocol): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port === 'number') return p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port;
  // A named port means the destination pod's container port of that name and protocol.
  if (dst.kind !== 'pod') return false;
  for (const np of dst.ports) if (np.name === p.port && np.protocol === protocol && np.port === port) return true;
  return false;
}

/** "ns/name", written once per policy object (informer objects are replaced, never mutated). */
const names = new WeakMap<NetworkPolicy, string>();

function policyName(p: NetworkPolicy): string {
  let name = names.get(p);
  if (name === undefined) names.set(p, (name = `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}`));
  return name;
}

export function ruleName(r: RuleRef): string {
  return `${r.policy} ${r.direction.toLowerCase()} rule ${r.rule}`;
}
