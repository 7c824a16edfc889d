/**
 * The kubelet's token manager for projected tokens: one token per pod, audience and lifetime,
 * kept until 80 % of its lifetime (or 24 h) has passed, then issued again; none without the
 * pod's service account.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { PodTokens } from '../../../dataplane/node/pod-tokens.js';
import { TokenIssuer } from '../../../dataplane/base/serviceaccount/token-issuer.js';
import { ensureSigningKey } from '../../../dataplane/base/serviceaccount/signing-key.js';

const key = ensureSigningKey(mkdtempSync(path.join(os.tmpdir(), 'knet-pod-tokens-')));
const sa: ServiceAccount = { metadata: { name: 'default', namespace: 'shop', uid: 'sa-1' } };
const pod: Pod = { metadata: { name: 'web', namespace: 'shop', uid: 'pod-1' }, spec: { containers: [], serviceAccountName: 'default' } };
const T0 = Date.parse('2026-03-01T10:00:00Z');

function manager(accounts: ServiceAccount[] = [sa]) {
  const clock = { t: T0 };
  const issuer = new TokenIssuer({ key, clusterDomain: 'cluster.local', now: () => clock.t });
  const tokens = new PodTokens({
    issuer: () => issuer,
    serviceAccount: (ns, name) => accounts.find((a) => a.metadata?.namespace === ns && a.metadata?.name === name),
    node: () => undefined,
    now: () => clock.t,
  });
  return { clock, tokens, issuer };
}

describe('PodTokens', () => {
  it('keeps a token until 80 % of its lifetime, then issues a new one that still authenticates', () => {
    const { clock, tokens, issuer } = manager();
    const first = tokens.token(pod, undefined, 3607)!;
    expect(tokens.nextRefresh('pod-1')).toBe(T0 + 0.8 * 3607_000);
    clock.t = T0 + 0.8 * 3607_000 - 1;
    expect(tokens.token(pod, undefined, 3607)).toBe(first);
    clock.t = T0 + 0.8 * 3607_000;
    const second = tokens.token(pod, undefined, 3607)!;
    expect(second).not.toBe(first);
    // Token times are whole seconds.
    expect(tokens.nextRefresh('pod-1')).toBe(Math.floor(clock.t / 1000) * 1000 + 0.8 * 3607_000);
    const objects = { serviceAccount: () => sa, pod: () => pod, secret: () => undefined, node: () => undefined };
    expect(issuer.authenticate(second, objects)).toMatchObject({ ok: true, user: { name: 'system:serviceaccount:shop:default' } });
  });

  it('refreshes a long-lived token after 24 hours', () => {
    const { tokens } = manager();
    tokens.token(pod, 'vault', 7 * 24 * 3600);
    expect(tokens.nextRefresh('pod-1')).toBe(T0 + 24 * 3600_000);
  });

  it('keeps one token per audience and lifetime; forget drops them', () => {
    const { tokens } = manager();
    const a = tokens.token(pod, undefined, 3607);
    const b = tokens.token(pod, 'vault', 3600);
    expect(a).not.toBe(b);
    expect(tokens.token(pod, 'vault', 3600)).toBe(b);
    tokens.forget('pod-1');
    expect(tokens.nextRefresh('pod-1')).toBeUndefined();
  });

  it('issues nothing without the pod service account', () => {
    const { tokens } = manager([]);
    expect(tokens.token(pod, undefined, 3607)).toBeUndefined();
    expect(tokens.nextRefresh('pod-1')).toBeUndefined();
  });
});
