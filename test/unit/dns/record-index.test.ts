import { describe, expect, it } from 'vitest';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { RecordIndex } from '../../../dns/record-index.js';
import { buildServiceRecord, dashedIP } from '../../../dns/service-record.js';
import { clusterIP, headless, namespace, pod, slice, tcp } from './fixtures.js';

function freshIndex(): { informers: MemoryInformerFactory; index: RecordIndex; clock: { ms: number } } {
  const informers = new MemoryInformerFactory();
  const clock = { ms: 1_000_000 };
  const index = new RecordIndex(informers, { now: () => clock.ms });
  return { informers, index, clock };
}

describe('buildServiceRecord', () => {
  it('keeps ready and nil-ready endpoints, drops ready=false', () => {
    const rec = buildServiceRecord(headless('prod', 'db', [tcp('pg', 5432)]), [
      slice('prod', 'db', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: true }, { ip: '10.0.0.3', ready: false }], [tcp('pg', 5432)]),
    ]);
    expect(rec.kind).toBe('Headless');
    expect(rec.endpoints.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
  });
  it('publishNotReadyAddresses keeps not-ready endpoints', () => {
    const rec = buildServiceRecord(headless('prod', 'db', [], { publishNotReadyAddresses: true }), [
      slice('prod', 'db', [{ ip: '10.0.0.3', ready: false }], undefined),
    ]);
    expect(rec.endpoints).toEqual([{ ip: '10.0.0.3', family: 4, hostname: '10-0-0-3', ports: [{ name: '', port: -1, protocol: '' }] }]);
  });
  it('ignores FQDN slices and unparseable addresses', () => {
    const rec = buildServiceRecord(headless('prod', 'x', []), [
      slice('prod', 'x', [{ ip: 'example.com' }], undefined, 'x-fqdn', 'FQDN'),
      slice('prod', 'x', [{ ip: 'not-an-ip' }], undefined),
    ]);
    expect(rec.endpoints).toEqual([]);
  });
  it('dashes IPs like CoreDNS', () => {
    expect(dashedIP('10.244.1.5')).toBe('10-244-1-5');
    expect(dashedIP('1234:abcd::1')).toBe('1234-abcd--1');
    expect(dashedIP('fd00::')).toBe('fd00--0');
  });
});

describe('RecordIndex', () => {
  it('recomputes a service when its slices come and go, and bumps exactly its version', () => {
    const { informers, index } = freshIndex();
    informers.upsert(headless('prod', 'db', [tcp('pg', 5432)]));
    informers.upsert(clusterIP('prod', 'other', ['10.96.0.50'], [tcp('http', 80)]));
    const dbV = index.version('svc:prod/db');
    const otherV = index.version('svc:prod/other');
    informers.upsert(slice('prod', 'db', [{ ip: '10.0.0.1' }], [tcp('pg', 5432)]));
    expect(index.service('prod', 'db')!.endpoints.map((e) => e.ip)).toEqual(['10.0.0.1']);
    expect(index.version('svc:prod/db')).toBeGreaterThan(dbV);
    expect(index.version('svc:prod/other')).toBe(otherV);
    expect(index.endpointsByIP('10.0.0.1').map((e) => e.service.key)).toEqual(['prod/db']);
    informers.remove(slice('prod', 'db', [], undefined));
    expect(index.service('prod', 'db')!.endpoints).toEqual([]);
    expect(index.endpointsByIP('10.0.0.1')).toEqual([]);
  });

  it('does not bump a version when nothing DNS-relevant changed', () => {
    const { informers, index } = freshIndex();
    informers.upsert(headless('prod', 'db', [tcp('pg', 5432)]));
    informers.upsert(slice('prod', 'db', [{ ip: '10.0.0.1' }], [tcp('pg', 5432)]));
    const v = index.version('svc:prod/db');
    // Same content, new resourceVersion.
    informers.upsert(slice('prod', 'db', [{ ip: '10.0.0.1' }], [tcp('pg', 5432)]));
    expect(index.version('svc:prod/db')).toBe(v);
  });

  it('moves a slice between services when its label changes', () => {
    const { informers, index } = freshIndex();
    informers.upsert(headless('prod', 'a', []));
    informers.upsert(headless('prod', 'b', []));
    informers.upsert(slice('prod', 'a', [{ ip: '10.0.0.1' }], undefined, 'moving'));
    expect(index.service('prod', 'a')!.endpoints).toHaveLength(1);
    informers.upsert(slice('prod', 'b', [{ ip: '10.0.0.1' }], undefined, 'moving'));
    expect(index.service('prod', 'a')!.endpoints).toHaveLength(0);
    expect(index.service('prod', 'b')!.endpoints).toHaveLength(1);
  });

  it('slices arriving before their service are picked up', () => {
    const { informers, index } = freshIndex();
    informers.upsert(slice('prod', 'late', [{ ip: '10.0.0.9' }], undefined));
    expect(index.service('prod', 'late')).toBeUndefined();
    informers.upsert(headless('prod', 'late', []));
    expect(index.service('prod', 'late')!.endpoints.map((e) => e.ip)).toEqual(['10.0.0.9']);
  });

  it('namespace existence: object, services, pods, and the built-in ones', () => {
    const { informers, index } = freshIndex();
    expect(index.namespaceExists('default')).toBe(true);
    expect(index.namespaceExists('kube-system')).toBe(true);
    expect(index.namespaceExists('prod')).toBe(false);
    const v0 = index.version('ns:prod');
    informers.upsert(namespace('prod'));
    expect(index.namespaceExists('prod')).toBe(true);
    expect(index.version('ns:prod')).toBeGreaterThan(v0);
    informers.remove(namespace('prod'));
    expect(index.namespaceExists('prod')).toBe(false);
    informers.upsert(clusterIP('prod', 's', ['10.96.0.9'], [tcp('http', 80)]));
    expect(index.namespaceExists('prod')).toBe(true);
    informers.remove(clusterIP('prod', 's', [], []));
    expect(index.namespaceExists('prod')).toBe(false);
    informers.upsert(pod('prod', 'p', '10.244.0.1'));
    expect(index.namespaceExists('prod')).toBe(true);
    expect(index.podsByIP('10.244.0.1')).toEqual([{ namespace: 'prod', name: 'p' }]);
  });

  it('keeps deleted keys versioned so old answers cannot revive', () => {
    const { informers, index } = freshIndex();
    informers.upsert(clusterIP('prod', 's', ['10.96.0.9'], [tcp('http', 80)]));
    const created = index.version('svc:prod/s');
    informers.remove(clusterIP('prod', 's', [], []));
    const deleted = index.version('svc:prod/s');
    expect(deleted).toBeGreaterThan(created);
    expect(deleted).not.toBe(0);
  });

  it('SOA serial follows the last relevant change, in seconds', () => {
    const { informers, index, clock } = freshIndex();
    expect(index.serial()).toBe(1000);
    clock.ms = 5_000_500;
    informers.upsert(clusterIP('prod', 's', ['10.96.0.9'], [tcp('http', 80)]));
    expect(index.serial()).toBe(5000);
    expect(index.version('serial')).toBeGreaterThan(0);
  });

  it('tracks ClusterIPs for PTR, sorted by key', () => {
    const { informers, index } = freshIndex();
    informers.upsert(clusterIP('b', 'x', ['10.96.0.9'], [tcp('http', 80)]));
    informers.upsert(clusterIP('a', 'x', ['10.96.0.9'], [tcp('http', 80)]));
    expect(index.servicesByClusterIP('10.96.0.9').map((s) => s.key)).toEqual(['a/x', 'b/x']);
    informers.upsert(headless('a', 'x', []));
    expect(index.servicesByClusterIP('10.96.0.9').map((s) => s.key)).toEqual(['b/x']);
  });

  it('close() stops listening', () => {
    const { informers, index } = freshIndex();
    index.close();
    informers.upsert(clusterIP('prod', 's', ['10.96.0.9'], [tcp('http', 80)]));
    expect(index.service('prod', 's')).toBeUndefined();
  });
});
