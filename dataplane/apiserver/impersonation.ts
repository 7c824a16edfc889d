/**
 * Impersonation (`kubectl --as USER --as-group G --as-uid U`; k8s.io/apiserver
 * pkg/endpoints/filters/impersonation.go): the `Impersonate-User`, `Impersonate-Group`,
 * `Impersonate-Uid` and `Impersonate-Extra-<key>` headers make the request act as that user.
 * The authorizer allows every authenticated user (README), so every impersonation is allowed, as
 * under AlwaysAllow. A service-account user impersonated without groups gets the service-account
 * groups; every impersonated user is in `system:authenticated`. Groups, uid or extra without a
 * user are a 400, as upstream answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { User } from './api-request.js';

const SA_PREFIX = 'system:serviceaccount:';

export class ImpersonationError extends Error {}

const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim()));

/** The user the request acts as: the authenticated one, or the one it impersonates. */
export function impersonatedUser(authenticated: User, headers: IncomingHttpHeaders): User {
  const name = headers['impersonate-user'];
  const groups = values(headers['impersonate-group']);
  const uid = headers['impersonate-uid'];
  const extra: Record<string, string[]> = {};
  for (const [h, v] of Object.entries(headers)) {
    if (!h.startsWith('impersonate-extra-')) continue;
    // Keys are percent-encoded in the header name (the header is case-insensitive, so lowercased).
    extra[decodeURIComponent(h.slice('impersonate-extra-'.length))] = values(v);
  }
  if (name === undefined || name === '') {
    if (groups.length || uid !== undefined || Object.keys(extra).length) throw new ImpersonationError(`requested ${describe(groups, uid, extra)} without impersonating a user`);
    return authenticated;
  }
  const user = Array.isArray(name) ? name[0]! : name;
  const asGroups = [...groups];
  if (!asGroups.length && user.startsWith(SA_PREFIX)) {
    const ns = user.slice(SA_PREFIX.length).split(':')[0] ?? '';
    asGroups.push('system:serviceaccounts', `system:serviceaccounts:${ns}`);
  }
  if (user !== 'system:anonymous' && !asGroups.includes('system:authenticated')) asGroups.push('system:authenticated');
  return {
    name: user,
    groups: asGroups,
    ...(typeof uid === 'string' && uid ? { uid } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

function describe(groups: string[], uid: string | string[] | undefined, extra: Record<string, string[]>): string {
  const parts = [...groups.map((g) => `groups=${g}`), ...(uid !== undefined ? [`uid=${String(uid)}`] : []), ...Object.keys(extra).map((k) => `extra=${k}`)];
  return `[${parts.join(' ')}]`;
}
