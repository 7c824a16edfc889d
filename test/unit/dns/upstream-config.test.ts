import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResolvConf, parseUpstream, resolveUpstream } from '../../../dns/upstream-config.js';

describe('upstream configuration', () => {
  it('reads nameservers from resolv.conf', () => {
    expect(parseResolvConf('# c\nsearch x\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:5\n')).toEqual(['10.0.0.2', 'fe80::1']);
  });

  it.each([
    ['10.0.0.1', { host: '10.0.0.1', port: 53 }],
    ['10.0.0.1:5353', { host: '10.0.0.1', port: 5353 }],
    ['[fd00::1]:54', { host: 'fd00::1', port: 54 }],
    ['fd00::1', { host: 'fd00::1', port: 53 }],
    ['example.com', undefined],
    ['10.0.0.1:99999', undefined],
  ])('%s', (text, want) => {
    expect(parseUpstream(text)).toEqual(want);
  });

  it('null turns forwarding off; a bad address is an error', () => {
    expect(resolveUpstream(null, { address: '127.96.0.10', port: 53 }).upstream).toBeUndefined();
    expect(() => resolveUpstream('nope', { address: '127.96.0.10', port: 53 })).toThrow(/not an address/);
  });

  it('defaults to resolv.conf, skipping this server itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knet-dns-'));
    const file = join(dir, 'resolv.conf');
    writeFileSync(file, 'nameserver 127.96.0.10\nnameserver 10.255.255.53\n');
    expect(resolveUpstream(undefined, { address: '127.96.0.10', port: 53 }, file).upstream).toEqual({ host: '10.255.255.53', port: 53 });
    writeFileSync(file, 'nameserver 127.96.0.10\n');
    expect(resolveUpstream(undefined, { address: '127.96.0.10', port: 53 }, file).upstream).toBeUndefined();
    expect(resolveUpstream(undefined, { address: '127.96.0.10', port: 53 }, join(dir, 'missing')).upstream).toBeUndefined();
  });
});
