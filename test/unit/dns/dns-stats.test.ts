/** Query and response counters: every qtype and rcode counted, common or not, and the snapshot's names. */
import { describe, expect, it } from 'vitest';
import { DnsStats } from '../../../dns/dns-stats.js';
import { Rcode, RRType } from '../../../dns/records.js';

describe('DnsStats', () => {
  it('counts queries by type and transport, including types above 255', () => {
    const stats = new DnsStats();
    stats.countQuery(RRType.A, 'udp');
    stats.countQuery(RRType.A, 'udp');
    stats.countQuery(RRType.A, 'tcp');
    stats.countQuery(RRType.SRV, 'udp');
    stats.countQuery(65280, 'udp');
    expect(stats.byTypeAndTransport).toEqual(new Map([[RRType.A << 1, 2], [(RRType.A << 1) | 1, 1], [RRType.SRV << 1, 1], [65280 << 1, 1]]));
    const snap = stats.snapshot(0);
    expect(snap).toMatchObject({ queries: 5, byTransport: { udp: 4, tcp: 1 }, byType: { A: 3, SRV: 1, TYPE65280: 1 } });
  });

  it('counts responses by rcode, including extended rcodes', () => {
    const stats = new DnsStats();
    stats.countResponse(Rcode.NOERROR);
    stats.countResponse(Rcode.NXDOMAIN);
    stats.countResponse(Rcode.NXDOMAIN);
    stats.countResponse(Rcode.BADVERS);
    expect(stats.snapshot(0).byRcode).toEqual({ NOERROR: 1, NXDOMAIN: 2, BADVERS: 1 });
  });
});
