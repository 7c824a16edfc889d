/**
 * `knet describe networkpolicy NAME` as kubectl prints it (kubectl/pkg/describe:
 * describeNetworkPolicy): the selected pods, each direction's rules — every port, then every
 * peer under its own "From:"/"To:" (a namespaceSelector and podSelector in one peer are printed
 * together: they are ANDed), rules separated by "----------" (ORed) — or that a direction is
 * isolated with no rule, or not affected at all, and the policy types. kubectl prints no events
 * for a NetworkPolicy.
 */
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { formatLabelSelector } from '../../base/model/selector.js';
import { policyTypes } from '../../base/netpol/decide.js';
import { annotationsText, labelsText } from './describe-maps.js';

export function describeNetworkPolicy(np: NetworkPolicy): string {
  const l: string[] = [];
  const md = np.metadata ?? {};
  l.push(`Name:         ${md.name ?? ''}`);
  l.push(`Namespace:    ${md.namespace ?? 'default'}`);
  l.push(`Created on:   ${goTime(md.creationTimestamp)}`);
  l.push(`Labels:       ${labelsText(md.labels, 14)}`);
  l.push(`Annotations:  ${annotationsText(md.annotations, 14)}`);
  l.push('Spec:');
  const selector = np.spec?.podSelector ?? {};
  const pods = formatLabelSelector(selector);
  l.push(`  PodSelector:     ${pods === '<none>' ? '<none> (Allowing the specific traffic to all pods in this namespace)' : pods}`);
  const types = policyTypes(np);
  if (types.includes('Ingress')) {
    l.push('  Allowing ingress traffic:');
    rules(l, 'ingress', 'From', (np.spec?.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from })));
  } else l.push('  Not affecting ingress traffic');
  if (types.includes('Egress')) {
    l.push('  Allowing egress traffic:');
    rules(l, 'egress', 'To', (np.spec?.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to })));
  } else l.push('  Not affecting egress traffic');
  l.push(`  Policy Types: ${(np.spec?.policyTypes?.length ? np.spec.policyTypes : types).join(', ')}`);
  return l.join('\n');
}

function rules(l: string[], direction: string, word: 'From' | 'To', list: Array<{ ports?: NetworkPolicyPort[]; peers?: NetworkPolicyPeer[] }>): void {
  const at = '    ';
  if (!list.length) {
    l.push(`${at}<none> (Selected pods are isolated for ${direction} connectivity)`);
    return;
  }
  list.forEach((r, i) => {
    if (!r.ports?.length) l.push(`${at}To Port: <any> (traffic allowed to all ports)`);
    else for (const p of r.ports) l.push(`${at}To Port: ${portText(p)}/${p.protocol ?? 'TCP'}`);
    if (!r.peers?.length) l.push(`${at}${word}: <any> (traffic not restricted by ${word === 'From' ? 'source' : 'destination'})`);
    else {
      for (const peer of r.peers) {
        l.push(`${at}${word}:`);
        if (peer.namespaceSelector) l.push(`${at}  NamespaceSelector: ${formatLabelSelector(peer.namespaceSelector)}`);
        if (peer.podSelector) l.push(`${at}  PodSelector: ${formatLabelSelector(peer.podSelector)}`);
        if (!peer.namespaceSelector && !peer.podSelector && peer.ipBlock) {
          l.push(`${at}  IPBlock:`);
          l.push(`${at}    CIDR: ${peer.ipBlock.cidr}`);
          l.push(`${at}    Except: ${(peer.ipBlock.except ?? []).join(', ')}`);
        }
      }
    }
    if (i !== list.length - 1) l.push(`${at}----------`);
  });
}

/** A port, a named port, or a range (endPort). */
function portText(p: NetworkPolicyPort): string {
  if (p.port === undefined) return '<any>';
  return p.endPort !== undefined ? `${p.port}-${p.endPort}` : String(p.port);
}

/** Go's time.Time String() in UTC: "2024-07-28 10:03:17 +0000 UTC". */
function goTime(iso: string | undefined): string {
  if (!iso) return '<unknown>';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} +0000 UTC`;
}
