import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIP, parseIP } from '../../../dns/ip-address.js';
import { classifyName, parseRequest, type NameShape, type RecordRequest } from '../../../dns/parse-name.js';
import { addressFromReverse, reverseName } from '../../../dns/reverse-name.js';

const Z = 'cluster.local';
const req = (r: Partial<RecordRequest>): RecordRequest => ({
  podOrSvc: '',
  namespace: '',
  service: '',
  endpoint: '',
  port: '',
  protocol: '',
  ...r,
});

describe('parseRequest (parse.go)', () => {
  it.each<[string, RecordRequest | null]>([
    ['cluster.local', req({})],
    ['svc.cluster.local', req({})],
    ['pod.cluster.local', req({})],
    ['prod.svc.cluster.local', req({ podOrSvc: 'svc', namespace: 'prod' })],
    ['web.prod.svc.cluster.local', req({ podOrSvc: 'svc', namespace: 'prod', service: 'web' })],
    ['web-0.web.prod.svc.cluster.local', req({ podOrSvc: 'svc', namespace: 'prod', service: 'web', endpoint: 'web-0' })],
    ['_http._tcp.web.prod.svc.cluster.local', req({ podOrSvc: 'svc', namespace: 'prod', service: 'web', port: 'http', protocol: 'tcp' })],
    ['http.tcp.web.prod.svc.cluster.local', req({ podOrSvc: 'svc', namespace: 'prod', service: 'web', port: 'http', protocol: 'tcp' })],
    ['10-1-2-3.default.pod.cluster.local', req({ podOrSvc: 'pod', namespace: 'default', service: '10-1-2-3' })],
    ['a.b.c.web.prod.svc.cluster.local', null],
    ['foo.cluster.local', null],
    ['web.prod.cluster.local', null],
    ['example.com', null],
  ])('%s', (name, expected) => {
    const r = parseRequest(name, Z);
    if (expected === null) expect(r.ok).toBe(false);
    else expect(r).toEqual({ ok: true, request: expected });
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9_*-]{0,8}$/), { maxLength: 8 }), (labels) => {
        const name = [...labels, 'cluster', 'local'].join('.');
        parseRequest(name, Z);
        classifyName(name, Z);
      }),
    );
  });
});

describe('classifyName', () => {
  it.each<[string, NameShape]>([
    ['cluster.local', { shape: 'apex' }],
    ['dns-version.cluster.local', { shape: 'dns-version' }],
    ['ns.dns.cluster.local', { shape: 'ns.dns' }],
    ['10.0.96.10.in-addr.arpa', { shape: 'reverse', ip: '10.96.0.10' }],
    ['web.prod.svc.cluster.local', { shape: 'service', namespace: 'prod', service: 'web' }],
    ['web-0.web.prod.svc.cluster.local', { shape: 'endpoint', namespace: 'prod', service: 'web', endpoint: 'web-0' }],
    ['_http._tcp.web.prod.svc.cluster.local', { shape: 'srv', namespace: 'prod', service: 'web', port: 'http', protocol: 'tcp' }],
    ['10-1-2-3.prod.pod.cluster.local', { shape: 'pod', namespace: 'prod', pod: '10-1-2-3' }],
    ['prod.svc.cluster.local', { shape: 'namespace', namespace: 'prod', podOrSvc: 'svc' }],
    ['x.cluster.local', { shape: 'invalid' }],
  ])('%s', (name, shape) => {
    expect(classifyName(name, name.endsWith('.arpa') ? 'in-addr.arpa' : Z)).toEqual(shape);
  });
});

describe('IP text as Go reads it', () => {
  it.each<[string, string | undefined]>([
    ['10.244.1.5', '10.244.1.5'],
    ['010.1.1.1', undefined],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['fd00::6', 'fd00::6'],
    ['FD00:0:0:0:0:0:0:6', 'fd00::6'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:7::8', undefined],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:a01:203', '10.1.2.3'],
    ['fe80::1%eth0', undefined],
    [':::1', undefined],
    ['1:2', undefined],
  ])('%s', (text, canonical) => {
    expect(canonicalIP(text)).toBe(canonical);
  });

  it('formats what it parses back to itself', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const words: string[] = [];
        for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
        const ip = parseIP(words.join(':'))!;
        expect(ip).toBeDefined();
        expect(parseIP(ip.text)!.text).toBe(ip.text);
      }),
    );
  });
});

describe('reverse names', () => {
  it.each<[string, string]>([
    ['10.0.96.10.in-addr.arpa', '10.96.0.10'],
    ['96.10.in-addr.arpa', ''],
    ['x.0.96.10.in-addr.arpa', ''],
    ['6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', 'fd00::6'],
    ['0.d.f.ip6.arpa', ''],
    ['web.prod.svc.cluster.local', ''],
  ])('%s → %s', (name, ip) => {
    expect(addressFromReverse(name)).toBe(ip);
  });
  it('round-trips', () => {
    expect(addressFromReverse(reverseName('10.244.1.5')!)).toBe('10.244.1.5');
    expect(addressFromReverse(reverseName('fd00:10:244::5')!)).toBe('fd00:10:244::5');
  });
});
