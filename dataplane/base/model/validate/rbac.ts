/**
 * rbac.authorization.k8s.io/v1 validation (pkg/apis/rbac/validation): names are path segments
 * (ValidateRBACName); every rule names verbs, and either resources with API groups or — only in a
 * ClusterRole — non-resource URLs; a binding's roleRef is a Role or ClusterRole of this API group
 * (a ClusterRoleBinding's only a ClusterRole), its subjects known kinds with names. knet does not
 * enforce any of it: authorization is allow-all (IGNORED-FIELDS.md).
 */
import type { ClusterRole, PolicyRule, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { child, index, invalid, notSupported, required, type FieldError } from './field-error.js';
import type { NameCheck } from './formats.js';
import { validateLabelSelector } from './label-selector.js';
import { validateObjectMeta } from './object-meta.js';

const GROUP = 'rbac.authorization.k8s.io';

/** path.IsValidPathSegmentName: not "." or "..", no "/" or "%". */
export const nameIsPathSegment: NameCheck = (name, prefix) => {
  if (!prefix && (name === '.' || name === '..')) return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
};

function validateRule(rule: PolicyRule, path: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs?.length) errs.push(required(child(path, 'verbs'), 'verbs must contain at least one value'));
  if (rule.nonResourceURLs?.length) {
    if (namespaced) errs.push(invalid(child(path, 'nonResourceURLs'), rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      errs.push(invalid(child(path, 'nonResourceURLs'), rule.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!rule.apiGroups?.length) errs.push(required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) errs.push(required(child(path, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(r: Role): FieldError[] {
  const errs = validateObjectMeta(r.metadata, true, nameIsPathSegment);
  (r.rules ?? []).forEach((rule, i) => errs.push(...validateRule(rule, index('rules', i), true)));
  return errs;
}

export function validateClusterRole(r: ClusterRole): FieldError[] {
  const errs = validateObjectMeta(r.metadata, false, nameIsPathSegment);
  (r.rules ?? []).forEach((rule, i) => errs.push(...validateRule(rule, index('rules', i), false)));
  const agg = r.aggregationRule;
  if (agg) {
    if (!agg.clusterRoleSelectors?.length) errs.push(required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    (agg.clusterRoleSelectors ?? []).forEach((s, i) => errs.push(...validateLabelSelector(s, index('aggregationRule.clusterRoleSelectors', i))));
  }
  return errs;
}

function validateSubject(s: Subject, path: string, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(required(child(path, 'name')));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.apiGroup) errs.push(notSupported(child(path, 'apiGroup'), s.apiGroup, ['']));
      if (clusterScoped && !s.namespace) errs.push(required(child(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== GROUP) errs.push(notSupported(child(path, 'apiGroup'), s.apiGroup ?? '', [GROUP]));
      break;
    default:
      errs.push(notSupported(child(path, 'kind'), s.kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** A RoleBinding (namespaced) or ClusterRoleBinding: the same fields, different roleRef kinds. */
export function validateRoleBinding(b: RoleBinding, clusterScoped: boolean): FieldError[] {
  const errs = validateObjectMeta(b.metadata, !clusterScoped, nameIsPathSegment);
  const ref = b.roleRef;
  if (ref?.apiGroup !== GROUP) errs.push(notSupported('roleRef.apiGroup', ref?.apiGroup ?? '', [GROUP]));
  const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref?.kind ?? '')) errs.push(notSupported('roleRef.kind', ref?.kind ?? '', kinds));
  if (!ref?.name) errs.push(required('roleRef.name'));
  else for (const msg of nameIsPathSegment(ref.name, false)) errs.push(invalid('roleRef.name', ref.name, msg));
  (b.subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, index('subjects', i), clusterScoped)));
  return errs;
}
