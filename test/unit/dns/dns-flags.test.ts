import { describe, expect, it } from 'vitest';
import { dnsSettingsFromFlags, type DnsFlags, type DnsSettings } from '../../../dns/dns-flags.js';

describe('dnsSettingsFromFlags', () => {
  const rows: Array<[string, DnsFlags, DnsSettings]> = [
    ['no flags: resolv.conf, no query log', { forward: true }, {}],
    ['commander without --no-forward defined', {}, {}],
    ['--upstream IP', { upstream: '192.0.2.53', forward: true }, { upstream: '192.0.2.53' }],
    ['--upstream IP:PORT', { upstream: '127.0.0.1:5300', forward: true }, { upstream: '127.0.0.1:5300' }],
    ['--upstream [v6]:PORT', { upstream: '[::1]:5300', forward: true }, { upstream: '[::1]:5300' }],
    ['--no-forward', { forward: false }, { upstream: null }],
    ['--log-queries', { logQueries: true, forward: true }, { logQueries: true }],
  ];
  it.each(rows)('%s', (_, flags, want) => {
    expect(dnsSettingsFromFlags(flags)).toEqual(want);
  });

  it('rejects --upstream with --no-forward', () => {
    expect(() => dnsSettingsFromFlags({ upstream: '127.0.0.1', forward: false })).toThrow(/contradict/);
  });

  it.each(['dns.google', '1.2.3', '127.0.0.1:99999', '127.0.0.1:'])('rejects --upstream %s with the accepted forms', (bad) => {
    expect(() => dnsSettingsFromFlags({ upstream: bad })).toThrow(/want an IP, IP:PORT or \[IPv6\]:PORT/);
  });
});
