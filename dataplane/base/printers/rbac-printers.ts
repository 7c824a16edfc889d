/**
 * The RBAC kinds' printers (k8s pkg/printers/internalversion/printers.go printRoleBinding,
 * printClusterRoleBinding): ROLE as Kind/name, and with -o wide the subjects split as
 * rbac.SubjectsStrings splits them (service accounts as namespace/name). Roles and ClusterRoles
 * have no printer upstream: the default table (NAME, CREATED AT).
 */
import type { RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { age } from './age.js';
import { AGE, DEFAULT_TABLE, NAME, col, wide, type Printer } from './columns.js';

/** rbac.SubjectsStrings: users, groups and service accounts, each joined with ", ". */
export function subjectsText(subjects: readonly Subject[] | undefined): [string, string, string] {
  const of = (kind: string, text: (s: Subject) => string): string => (subjects ?? []).filter((s) => s.kind === kind).map(text).join(', ');
  return [of('User', (s) => s.name), of('Group', (s) => s.name), of('ServiceAccount', (s) => `${s.namespace ?? ''}/${s.name}`)];
}

function bindingPrinter(what: 'roleBinding' | 'clusterRoleBinding', roleRefDoc: string): Printer {
  return {
    columns: [NAME, col('Role', roleRefDoc), AGE, wide('Users', `Users in the ${what}`), wide('Groups', `Groups in the ${what}`), wide('ServiceAccounts', `ServiceAccounts in the ${what}`)],
    cells: (o) => {
      const b = o as unknown as RoleBinding;
      return [b.metadata!.name!, `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(b.metadata?.creationTimestamp), ...subjectsText(b.subjects)];
    },
  };
}

export const RBAC_PRINTERS = {
  Role: DEFAULT_TABLE,
  ClusterRole: DEFAULT_TABLE,
  RoleBinding: bindingPrinter('roleBinding', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
  ClusterRoleBinding: bindingPrinter('clusterRoleBinding', 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
} satisfies Record<string, Printer>;
