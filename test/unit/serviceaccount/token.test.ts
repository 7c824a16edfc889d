/**
 * Service-account tokens: the JWT (ES256 compact JWS) and its claims as the apiserver issues
 * and checks them (pkg/serviceaccount/claims.go, storage/token.go): subject, audiences, expiry
 * with the minute of leeway, the kubelet's extended pod-bound tokens, and tokens dying with
 * their service account or pod.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ensureSigningKey, loadSigningKey } from '../../../dataplane/base/serviceaccount/signing-key.js';
import { keyIdOf, looksLikeJwt, signJwt, verifyJwt } from '../../../dataplane/base/serviceaccount/jwt.js';
import { TokenIssuer } from '../../../dataplane/base/serviceaccount/token-issuer.js';
import type { BoundObjects } from '../../../dataplane/base/serviceaccount/token-claims.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'knet-sa-key-'));
const key = ensureSigningKey(dir);
const T0 = Date.parse('2026-03-01T10:00:00Z');

const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'shop', uid: 'sa-uid-1' } };
const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'pod-uid-1' }, spec: { containers: [], nodeName: 'node-1' } };
const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'node-uid-1' } };

function world(over: Partial<{ sa: ServiceAccount | undefined; pod: Pod | undefined }> = {}): BoundObjects {
  const s = 'sa' in over ? over.sa : sa;
  const p = 'pod' in over ? over.pod : pod;
  return {
    serviceAccount: (ns, name) => (s && ns === s.metadata?.namespace && name === s.metadata?.name ? s : undefined),
    pod: (ns, name) => (p && ns === p.metadata?.namespace && name === p.metadata?.name ? p : undefined),
    secret: () => undefined,
    node: (name) => (name === 'node-1' ? node : undefined),
  };
}

function issuerAt(ms: { t: number }) {
  return new TokenIssuer({ key, clusterDomain: 'cluster.local', now: () => ms.t });
}

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('signing key', () => {
  it('is made once, 0600, and the same key is read back', () => {
    expect(statSync(path.join(dir, 'sa.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'sa.pub')).mode & 0o777).toBe(0o600);
    const again = ensureSigningKey(dir);
    expect(again.keyId).toBe(key.keyId);
    expect(loadSigningKey(dir)?.keyId).toBe(keyIdOf(key.publicKey));
    expect(loadSigningKey(path.join(dir, 'missing'))).toBeUndefined();
  });
});

describe('JWT', () => {
  it('signs ES256 with the key id and verifies only untampered tokens', () => {
    const token = signJwt({ sub: 'x', n: 1 }, key.privateKey, key.keyId);
    expect(looksLikeJwt(token)).toBe(true);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'ES256', kid: key.keyId });
    expect(verifyJwt(token, key.publicKey)).toMatchObject({ ok: true, claims: { sub: 'x', n: 1 } });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'system:masters', n: 1 })).toString('base64url')}.${s}`;
    expect(verifyJwt(forged, key.publicKey)).toEqual({ ok: false, reason: 'invalid signature' });
    const other = ensureSigningKey(mkdtempSync(path.join(os.tmpdir(), 'knet-sa-key-')));
    expect(verifyJwt(token, other.publicKey)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  it('refuses what is not a token, never throwing', () => {
    for (const t of ['', 'abc', 'a.b', 'a.b.c', '!!.??.**', `${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`, `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.e30.AAAA`]) {
      expect(verifyJwt(t, key.publicKey).ok).toBe(false);
    }
    expect(looksLikeJwt('not-a-jwt')).toBe(false);
  });
});

describe('TokenIssuer', () => {
  it('issues the upstream claims and authenticates as the service account', () => {
    const clock = { t: T0 };
    const issuer = issuerAt(clock);
    const issued = issuer.issue({ serviceAccount: sa, expirationSeconds: 3600 });
    const c = decode(issued.token);
    expect(c).toMatchObject({
      iss: 'https://kubernetes.default.svc.cluster.local',
      sub: 'system:serviceaccount:shop:default',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      iat: T0 / 1000,
      nbf: T0 / 1000,
      exp: T0 / 1000 + 3600,
      'kubernetes.io': { namespace: 'shop', serviceaccount: { name: 'default', uid: 'sa-uid-1' } },
    });
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.expirationTimestamp).toBe('2026-03-01T11:00:00Z');
    const who = issuer.authenticate(issued.token, world());
    expect(who).toEqual({
      ok: true,
      user: {
        name: 'system:serviceaccount:shop:default',
        uid: 'sa-uid-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:shop'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${String(c.jti)}`] },
      },
      audiences: ['https://kubernetes.default.svc.cluster.local'],
    });
  });

  it('expires after exp plus a minute of leeway', () => {
    const clock = { t: T0 };
    const issuer = issuerAt(clock);
    const { token } = issuer.issue({ serviceAccount: sa, expirationSeconds: 600 });
    clock.t = T0 + 660_000;
    expect(issuer.authenticate(token, world()).ok).toBe(true);
    clock.t = T0 + 661_000;
    expect(issuer.authenticate(token, world())).toEqual({ ok: false, reason: 'service account token has expired' });
  });

  it('refuses tokens for other audiences, of deleted or replaced service accounts', () => {
    const issuer = issuerAt({ t: T0 });
    const foreign = issuer.issue({ serviceAccount: sa, expirationSeconds: 3600, audiences: ['vault'] });
    expect(decode(foreign.token).aud).toEqual(['vault']);
    expect(issuer.authenticate(foreign.token, world()).ok).toBe(false);
    // ...but it is one for vault (a TokenReview naming that audience).
    expect(issuer.authenticate(foreign.token, world(), ['vault', 'other'])).toMatchObject({ ok: true, audiences: ['vault'] });
    const { token } = issuer.issue({ serviceAccount: sa, expirationSeconds: 3600 });
    expect(issuer.authenticate(token, world({ sa: undefined }))).toEqual({ ok: false, reason: 'service account shop/default not found' });
    const recreated = { ...sa, metadata: { ...sa.metadata, uid: 'sa-uid-2' } };
    expect(issuer.authenticate(token, world({ sa: recreated })).ok).toBe(false);
  });

  it('binds a token to its pod: the pod and node in the claims and extra, dead with the pod', () => {
    const clock = { t: T0 };
    const issuer = issuerAt(clock);
    const { token } = issuer.issue({ serviceAccount: sa, pod, node, expirationSeconds: 3600 });
    expect(decode(token)['kubernetes.io']).toMatchObject({ pod: { name: 'web-1', uid: 'pod-uid-1' }, node: { name: 'node-1', uid: 'node-uid-1' } });
    const who = issuer.authenticate(token, world());
    expect(who.ok && who.user.extra).toMatchObject({
      'authentication.kubernetes.io/pod-name': ['web-1'],
      'authentication.kubernetes.io/pod-uid': ['pod-uid-1'],
      'authentication.kubernetes.io/node-name': ['node-1'],
    });
    expect(issuer.authenticate(token, world({ pod: undefined }))).toEqual({ ok: false, reason: 'pod shop/web-1 not found' });
    const terminating = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(T0 - 120_000).toISOString() } };
    expect(issuer.authenticate(token, world({ pod: terminating }))).toEqual({ ok: false, reason: 'pod shop/web-1 has been deleted' });
  });

  it("extends the kubelet's 3607 s pod-bound tokens to a year, with warnafter, the status still saying 3607 s", () => {
    const issuer = issuerAt({ t: T0 });
    const kubelet = issuer.issue({ serviceAccount: sa, pod, expirationSeconds: 3607 });
    const c = decode(kubelet.token);
    expect(c.exp).toBe(T0 / 1000 + 365 * 24 * 3600);
    expect((c['kubernetes.io'] as Record<string, unknown>).warnafter).toBe(T0 / 1000 + 3607);
    expect(kubelet.expirationTimestamp).toBe(new Date(T0 + 3607_000).toISOString().replace('.000', ''));
    // Not for other lifetimes, other audiences, or tokens bound to no pod.
    expect(decode(issuer.issue({ serviceAccount: sa, pod, expirationSeconds: 3600 }).token).exp).toBe(T0 / 1000 + 3600);
    expect(decode(issuer.issue({ serviceAccount: sa, pod, expirationSeconds: 3607, audiences: ['vault'] }).token).exp).toBe(T0 / 1000 + 3607);
    expect(decode(issuer.issue({ serviceAccount: sa, expirationSeconds: 3607 }).token).exp).toBe(T0 / 1000 + 3607);
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
