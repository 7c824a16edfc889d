/**
 * Security identities, as Cilium calls them: peers that no NetworkPolicy can tell apart share
 * one number, so a verdict found for one pair of identities serves every pair of addresses with
 * the same two identities. A new replica of a Deployment then connects for the price of two
 * lookups, not a walk over the policies' rules (the walk, decide(), runs once per identity pair).
 *
 * An identity holds everything decide() reads of a peer, and nothing else:
 *  - a pod: its namespace (whose labels a namespaceSelector reads; a change of them forgets every
 *    verdict), its labels, its node's address (traffic from its own node is allowed), its named
 *    ports (a policy's named port resolves against the destination) and which ipBlock CIDRs hold
 *    its address (knet matches ipBlocks against pod addresses too);
 *  - a node: its address (compared with a pod's node address);
 *  - any other address: which ipBlock CIDRs hold it, all a policy can match of it.
 * The CIDRs are those of the current policies, so identities are made anew when policies change.
 */
import type { NetworkPolicy, NetworkPolicyPeer } from 'kubernetes-types/networking/v1.js';
import { ipToInt, isIPv4, parseCidr, type Cidr } from '../net/ip.js';
import type { Peer } from './peer.js';

export class Identities {
  private readonly numbers = new Map<string, number>();
  private readonly blocks: Cidr[];

  constructor(policies: readonly NetworkPolicy[]) {
    const seen = new Set<string>();
    for (const p of policies) {
      for (const r of p.spec?.ingress ?? []) collectBlocks(r.from, seen);
      for (const r of p.spec?.egress ?? []) collectBlocks(r.to, seen);
    }
    // IPv6 blocks match none of knet's addresses (decide.ts's inCidr says the same).
    this.blocks = [...seen].filter((c) => !c.includes(':')).map(parseCidr);
  }

  /** The identity of a peer: equal numbers mean every policy treats the two peers alike. */
  of(peer: Peer): number {
    return this.number(keyOf(peer, this.blocksHolding(peer.ip)));
  }

  /** How many identities were handed out (a bound for callers that cache by identity). */
  get size(): number {
    return this.numbers.size;
  }

  private number(key: string): number {
    let n = this.numbers.get(key);
    if (n === undefined) this.numbers.set(key, (n = this.numbers.size));
    return n;
  }

  /** The indexes of the blocks holding `ip`, as a short string ("" for none). */
  private blocksHolding(ip: string): string {
    if (this.blocks.length === 0 || !isIPv4(ip)) return '';
    const n = ipToInt(ip);
    let out = '';
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i]!;
      if (n >= b.base && n < b.base + b.size) out += `${i},`;
    }
    return out;
  }
}

function collectBlocks(peers: readonly NetworkPolicyPeer[] | undefined, into: Set<string>): void {
  for (const peer of peers ?? []) {
    if (!peer.ipBlock) continue;
    into.add(peer.ipBlock.cidr);
    for (const e of peer.ipBlock.except ?? []) into.add(e);
  }
}

function keyOf(peer: Peer, blocks: string): string {
  switch (peer.kind) {
    case 'node':
      return `node\n${peer.ip}`;
    case 'external':
      return `external\n${blocks}`;
    case 'pod': {
      const labels = Object.entries(peer.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const ports = peer.ports.map((p) => `${p.name}/${p.port}/${p.protocol}`).sort();
      return `pod\n${peer.namespace}\n${JSON.stringify(labels)}\n${peer.nodeIP ?? ''}\n${ports.join(',')}\n${blocks}`;
    }
  }
}
