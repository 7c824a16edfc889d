/**
 * The cluster-scoped kinds with little to check: Namespace (its name is a DNS-1123 label, its
 * finalizers standard or qualified) and Node (taints, podCIDRs).
 */
import type { Namespace, Node } from 'kubernetes-types/core/v1.js';
import { child, duplicate, index, invalid, notSupported, required, type FieldError } from './field-error.js';
import { isQualifiedName, isValidCIDR, isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain } from './formats.js';
import { validateObjectMeta } from './object-meta.js';

const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  for (const f of ns.spec?.finalizers ?? []) {
    const p = 'spec.finalizers';
    for (const m of isQualifiedName(f)) errs.push(invalid(p, f, m));
    if (!f.includes('/') && !STANDARD_FINALIZERS.includes(f)) {
      errs.push(invalid(p, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  // Upstream roots the taints path at "metadata" (metadata.taints[i]); kept for fidelity.
  const seen = new Set<string>();
  (node.spec?.taints ?? []).forEach((t, i) => {
    const p = index('metadata.taints', i);
    for (const m of isQualifiedName(t.key ?? '')) errs.push(invalid(child(p, 'key'), t.key ?? '', m));
    const msgs = isValidLabelValue(t.value ?? '');
    if (msgs.length) errs.push(invalid(child(p, 'value'), t.value ?? '', msgs.join(';')));
    if (!t.effect) errs.push(required(child(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(child(p, 'effect'), t.effect, TAINT_EFFECTS));
    const k = `${t.effect}/${t.key}`;
    if (seen.has(k)) {
      const d = duplicate(p, t);
      errs.push({ ...d, detail: 'taints must be unique by key and effect pair', message: `${d.message}: taints must be unique by key and effect pair` });
    }
    seen.add(k);
  });
  const cidrs = node.spec?.podCIDRs ?? [];
  cidrs.forEach((c, i) => {
    if (!isValidCIDR(c)) errs.push(invalid(index('spec.podCIDRs', i), c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  return errs;
}
