import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { curlUrl, formatWriteOut, parseCurlArgs } from '../../../dataplane/node/shell/commands/curl.js';
import { parseWgetArgs } from '../../../dataplane/node/shell/commands/wget.js';
import { parseNslookupArgs } from '../../../dataplane/node/shell/commands/nslookup.js';
import { parseDigArgs } from '../../../dataplane/node/shell/commands/dig.js';
import { parseNcArgs } from '../../../dataplane/node/shell/commands/nc.js';
import { parseSleep } from '../../../dataplane/node/shell/commands/basic-commands.js';
import { reverseName } from '../../../dataplane/node/shell/commands/dns-records.js';
import { imageRepository, toolboxProfile } from '../../../dataplane/node/shell/toolbox-images.js';

const ok = <T>(r: { ok: true; value: T } | { ok: false }) => {
  if (!r.ok) throw new Error('parse failed');
  return r.value;
};

describe('curl arguments', () => {
  it('takes grouped short flags, values attached or apart, repeated headers', () => {
    const o = ok(parseCurlArgs(['-sSfL', '-XPOST', '-H', 'A: 1', '-H', 'B: 2', '-d', 'x=1', '--max-time', '2.5', '-w', '%{http_code}', '-o', '/tmp/out', 'web/path']));
    expect(o).toMatchObject({ silent: true, showError: true, fail: true, location: true, method: 'POST', headers: ['A: 1', 'B: 2'], data: ['x=1'], maxTimeMs: 2500, writeOut: '%{http_code}', output: '/tmp/out', urls: ['web/path'] });
  });
  it('says what curl says about an unknown option, a missing URL and a bad number', () => {
    expect(parseCurlArgs(['--frobnicate', 'web'])).toMatchObject({ ok: false, exitCode: 2, message: expect.stringContaining('curl: option --frobnicate: is unknown') });
    expect(parseCurlArgs(['-s'])).toMatchObject({ ok: false, exitCode: 2, message: expect.stringContaining('curl: no URL specified') });
    expect(parseCurlArgs(['-m', 'soon', 'web'])).toMatchObject({ ok: false, exitCode: 2 });
  });
  it('guesses http:// and formats -w', () => {
    expect(curlUrl('web:8080/x?y=1')?.href).toBe('http://web:8080/x?y=1');
    expect(curlUrl('https://web')?.protocol).toBe('https:');
    expect(formatWriteOut('%{http_code} %{remote_ip}\\n%{nope}', { http_code: '200', remote_ip: '127.96.0.5' })).toBe('200 127.96.0.5\n%{nope}');
  });
});

describe('busybox wget arguments', () => {
  it('reads -qO- and -O - -T 5 -S --spider', () => {
    expect(ok(parseWgetArgs(['-qO-', 'http://web']))).toMatchObject({ quiet: true, output: '-', url: 'http://web' });
    expect(ok(parseWgetArgs(['-O', '-', '-T', '5', '-S', '--spider', 'web']))).toMatchObject({ output: '-', timeoutMs: 5000, serverResponse: true, spider: true });
  });
  it('refuses what busybox refuses', () => {
    expect(parseWgetArgs([])).toMatchObject({ ok: false, exitCode: 1 });
    expect(parseWgetArgs(['-T', 'x', 'web'])).toMatchObject({ ok: false, message: "wget: invalid number 'x'\n" });
  });
});

describe('nslookup, dig and nc arguments', () => {
  it('nslookup: -type=, a server, the usage text otherwise', () => {
    expect(ok(parseNslookupArgs(['-type=srv', '_http._tcp.web', '127.96.0.10']))).toMatchObject({ types: ['SRV'], name: '_http._tcp.web', server: '127.96.0.10' });
    expect(parseNslookupArgs([])).toMatchObject({ ok: false });
    expect(parseNslookupArgs(['-type=bogus', 'web'])).toMatchObject({ ok: false, message: 'nslookup: invalid query type "bogus"\n' });
  });
  it('dig: @server, type, +short, +search, -x, no name = the root NS', () => {
    expect(ok(parseDigArgs(['@127.96.0.10', 'web.shop.svc.cluster.local', 'SRV', '+short']))).toMatchObject({ server: '127.96.0.10', name: 'web.shop.svc.cluster.local', type: 'SRV', short: true });
    expect(ok(parseDigArgs(['+search', '+tcp', 'web']))).toMatchObject({ search: true, tcp: true, name: 'web', type: 'A' });
    expect(ok(parseDigArgs(['-x', '127.96.0.1']))).toMatchObject({ name: '1.0.96.127.in-addr.arpa', type: 'PTR' });
    expect(ok(parseDigArgs([]))).toMatchObject({ name: '.', type: 'NS' });
    expect(ok(parseDigArgs(['+noall', '+answer', 'web'])).sections).toMatchObject({ answer: true, question: false, stats: false });
    expect(parseDigArgs(['+bogus', 'web'])).toMatchObject({ ok: false });
  });
  it('nc: -zv -w2 HOST PORT, -u, and no listening', () => {
    expect(ok(parseNcArgs(['-zv', '-w2', 'web', '80']))).toMatchObject({ zero: true, verbose: true, waitS: 2, host: 'web', port: 80, udp: false });
    expect(ok(parseNcArgs(['-u', '-w', '1', 'dns', '53']))).toMatchObject({ udp: true, waitS: 1 });
    expect(parseNcArgs(['-l', '-p', '80'])).toMatchObject({ ok: false });
    expect(parseNcArgs(['web', '99999'])).toMatchObject({ ok: false, message: "nc: bad port '99999'\n" });
  });
  it('never throws on any argument list', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('-', '--', '-o', '-w', '+short', '@', '-x', '-type=a', '-O'))), (args) => {
        for (const parse of [parseCurlArgs, parseWgetArgs, parseNslookupArgs, parseDigArgs, parseNcArgs]) expect(typeof parse(args).ok).toBe('boolean');
      }),
    );
  });
});

describe('sleep durations, reverse names, toolbox images', () => {
  it('reads busybox sleep arguments', () => {
    expect(parseSleep('infinity')).toBe(Infinity);
    expect(parseSleep('1.5')).toBe(1500);
    expect(parseSleep('2m')).toBe(120_000);
    expect(parseSleep('1d')).toBe(86_400_000);
    expect(parseSleep('soon')).toBeUndefined();
  });
  it('names reverse zones', () => {
    expect(reverseName('127.96.0.10')).toBe('10.0.96.127.in-addr.arpa');
    expect(reverseName('web')).toBeUndefined();
  });
  it('recognises the toolbox images whatever the registry, tag or digest', () => {
    expect(imageRepository('docker.io/library/busybox:1.36@sha256:abc')).toBe('library/busybox');
    expect(toolboxProfile('busybox')?.image).toBe('busybox');
    expect(toolboxProfile('busybox:1.36-musl')?.libc).toBe('musl');
    expect(toolboxProfile('alpine:3.20')).toMatchObject({ image: 'alpine', libc: 'musl' });
    expect(toolboxProfile('curlimages/curl:8.11.1')?.tools.has('curl')).toBe(true);
    expect(toolboxProfile('nicolaka/netshoot')?.tools.has('dig')).toBe(true);
    expect(toolboxProfile('registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7')?.image).toBe('dnsutils');
    expect(toolboxProfile('nginx')).toBeUndefined();
    expect(toolboxProfile('registry.k8s.io/e2e-test-images/agnhost:2.53')).toBeUndefined();
  });
});
