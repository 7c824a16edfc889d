import { describe, expect, it } from 'vitest';
import { healthReply, type HealthProbes } from '../../../dataplane/apiserver/health.js';

const probes = (over: Partial<Record<keyof HealthProbes, boolean>> = {}): HealthProbes => ({
  storeReady: () => over.storeReady ?? true,
  cacheSynced: () => over.cacheSynced ?? true,
  shuttingDown: () => over.shuttingDown ?? false,
});
const get = (path: string, query = '', p = probes()) => {
  const r = healthReply(path, new URLSearchParams(query), p);
  return r && 'body' in r ? { code: r.code, body: String(r.body) } : undefined;
};

describe('healthz, livez, readyz as the apiserver answers them', () => {
  it('ok, or one line per check with ?verbose', () => {
    expect(get('/healthz')).toEqual({ code: 200, body: 'ok' });
    expect(get('/livez', 'verbose')).toEqual({ code: 200, body: '[+]ping ok\n[+]log ok\n[+]etcd ok\nlivez check passed\n' });
    expect(get('/readyz', 'verbose')!.body).toBe('[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[+]informer-sync ok\n[+]shutdown ok\nreadyz check passed\n');
  });

  it('a failing check is a 500 naming it, reason withheld; exclude skips it', () => {
    expect(get('/readyz', '', probes({ cacheSynced: false }))).toEqual({
      code: 500,
      body: '[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[-]informer-sync failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n',
    });
    expect(get('/readyz', 'exclude=informer-sync', probes({ cacheSynced: false }))).toEqual({ code: 200, body: 'ok' });
    expect(get('/livez', 'verbose&exclude=etcd', probes({ storeReady: false }))!.body).toContain('[+]etcd excluded: ok');
  });

  it('single checks by path; an unknown one is not found', () => {
    expect(get('/readyz/informer-sync')).toEqual({ code: 200, body: 'ok' });
    expect(get('/livez/etcd', '', probes({ storeReady: false }))!.code).toBe(500);
    expect(get('/livez/informer-sync')).toBeUndefined();
  });
});
