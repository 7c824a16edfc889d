import { describe, expect, it } from 'vitest';
import { impersonatedUser, ImpersonationError } from '../../../dataplane/apiserver/impersonation.js';

const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

describe('impersonation headers (kubectl --as)', () => {
  it('no headers: the authenticated user', () => {
    expect(impersonatedUser(admin, {})).toBe(admin);
  });

  it('a user with groups, uid and extra; always in system:authenticated', () => {
    expect(impersonatedUser(admin, { 'impersonate-user': 'jane', 'impersonate-group': ['dev', 'ops'], 'impersonate-uid': '42', 'impersonate-extra-scopes': 'view' })).toEqual({
      name: 'jane',
      groups: ['dev', 'ops', 'system:authenticated'],
      uid: '42',
      extra: { scopes: ['view'] },
    });
  });

  it('a service account gets its groups when none are asked for', () => {
    expect(impersonatedUser(admin, { 'impersonate-user': 'system:serviceaccount:team:bot' }).groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated']);
  });

  it('groups without a user are refused', () => {
    expect(() => impersonatedUser(admin, { 'impersonate-group': 'dev' })).toThrow(ImpersonationError);
  });
});
