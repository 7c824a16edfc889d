/**
 * NetworkPolicy validation (pkg/apis/networking/validation: ValidateNetworkPolicy and its port,
 * peer and ipBlock checks), with the apiserver's field paths and messages.
 */
import type { IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { child, forbidden, index, invalid, notSupported, required, type FieldError } from './field-error.js';
import { isValidCIDR, isValidPortName, isValidPortNum, nameIsDNSSubdomain } from './formats.js';
import { validateLabelSelector } from './label-selector.js';
import { validateObjectMeta } from './object-meta.js';
import { parseCidr } from '../../net/ip.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];
const CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

export function validateNetworkPolicy(np: NetworkPolicy): FieldError[] {
  const errs = validateObjectMeta(np.metadata, true, nameIsDNSSubdomain);
  const spec: NetworkPolicySpec = np.spec ?? { podSelector: {} };
  errs.push(...validateLabelSelector(spec.podSelector ?? {}, 'spec.podSelector'));
  (spec.ingress ?? []).forEach((rule, i) => {
    const path = index('spec.ingress', i);
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, index(child(path, 'ports'), j))));
    (rule.from ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, index(child(path, 'from'), j))));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const path = index('spec.egress', i);
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, index(child(path, 'ports'), j))));
    (rule.to ?? []).forEach((peer, j) => errs.push(...validatePeer(peer, index(child(path, 'to'), j))));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > POLICY_TYPES.length) {
    errs.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t)) errs.push(notSupported(index('spec.policyTypes', i), t, POLICY_TYPES));
  });
  return errs;
}

function validatePort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errs.push(notSupported(child(path, 'protocol'), port.protocol, PROTOCOLS));
  if (port.port === undefined) {
    if (port.endPort !== undefined) errs.push(invalid(child(path, 'endPort'), port.endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof port.port === 'number') {
    for (const m of isValidPortNum(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
    if (port.endPort !== undefined) {
      if (port.endPort < port.port) errs.push(invalid(child(path, 'endPort'), port.endPort, 'must be greater than or equal to `port`'));
      for (const m of isValidPortNum(port.endPort)) errs.push(invalid(child(path, 'endPort'), port.endPort, m));
    }
  } else {
    if (port.endPort !== undefined) errs.push(invalid(child(path, 'endPort'), port.endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of isValidPortName(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
  }
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (peer.podSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, child(path, 'podSelector')));
  }
  if (peer.namespaceSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, child(path, 'namespaceSelector')));
  }
  if (peer.ipBlock) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, child(path, 'ipBlock')));
  }
  if (peers === 0) errs.push(required(path, 'must specify a peer'));
  else if (peers > 1 && peer.ipBlock) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateIPBlock(block: IPBlock, path: string): FieldError[] {
  if (!block.cidr) return [required(child(path, 'cidr'))];
  if (!isValidCIDR(block.cidr)) return [invalid(child(path, 'cidr'), block.cidr, CIDR_MESSAGE)];
  const errs: FieldError[] = [];
  (block.except ?? []).forEach((e, i) => {
    const p = index(child(path, 'except'), i);
    if (!isValidCIDR(e)) {
      errs.push(invalid(p, e, CIDR_MESSAGE));
      return;
    }
    if (!strictSubset(e, block.cidr)) errs.push(invalid(p, e, 'must be a strict subset of `cidr`'));
  });
  return errs;
}

/** `inner` lies inside `outer` and is smaller (IPv4; an IPv6 pair is only checked for family). */
function strictSubset(inner: string, outer: string): boolean {
  if (inner.includes(':') || outer.includes(':')) return inner.includes(':') && outer.includes(':');
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  return i.bits > o.bits && i.base >= o.base && i.base < o.base + o.size;
}
