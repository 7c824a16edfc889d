/** The --log-queries line: CoreDNS's log plugin format, one row per shape of query. */
import { describe, expect, it } from 'vitest';
import { formatQueryLog } from '../../../dns/query-log.js';
import { Rcode, RRClass, RRType } from '../../../dns/records.js';
import { encodeMessage, encodeOpt, FLAG_AA, FLAG_QR, FLAG_RD } from '../../../dns/wire-encode.js';

function query(name: string, type: number, edns?: { size: number; dnssecOk?: boolean }): Buffer {
  const q = encodeMessage({ id: 7, flags: FLAG_RD, question: { name, type, class: RRClass.IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
  if (!edns) return q;
  const out = Buffer.concat([q, encodeOpt(edns.size, 0, edns.dnssecOk ?? false, [])]);
  out.writeUInt16BE(1, 10);
  return out;
}

function reply(q: Buffer, flags: number): Buffer {
  const r = Buffer.from(q);
  r.writeUInt16BE(flags, 2);
  return r;
}

const peer = { address: '127.0.0.1', port: 40000 };
const NAME = 'web.prod.svc.cluster.local';

describe('formatQueryLog', () => {
  const rows: Array<[string, Buffer, 'udp' | 'tcp', string]> = [
    ['UDP without EDNS: 512', query(NAME, RRType.A), 'udp', `"A IN ${NAME}. udp 44 false 512"`],
    ['UDP with EDNS: its size', query(NAME, RRType.A, { size: 1232 }), 'udp', `"A IN ${NAME}. udp 55 false 1232"`],
    ['UDP with a size under 512: 512', query(NAME, RRType.A, { size: 100 }), 'udp', `"A IN ${NAME}. udp 55 false 512"`],
    ['TCP: 65535 whatever EDNS says', query(NAME, RRType.SRV, { size: 1232, dnssecOk: true }), 'tcp', `"SRV IN ${NAME}. tcp 55 true 65535"`],
  ];
  it.each(rows)('%s', (_, q, transport, want) => {
    const line = formatQueryLog(q, reply(q, FLAG_QR | FLAG_AA | FLAG_RD | Rcode.NOERROR), transport, peer, 172_000n);
    expect(line).toBe(`[INFO] 127.0.0.1:40000 - 7 ${want} NOERROR qr,aa,rd ${q.length} 0.000172s`);
  });

  it('names the rcode and marks a dropped query', () => {
    const q = query(NAME, RRType.A);
    expect(formatQueryLog(q, reply(q, FLAG_QR | FLAG_AA | Rcode.NXDOMAIN), 'udp', peer, 1_000_000n)).toMatch(/" NXDOMAIN qr,aa \d+ 0\.001s$/);
    expect(formatQueryLog(q, null, 'udp', { address: '::1', port: 5 }, 0n)).toBe(`[INFO] [::1]:5 - 7 "A IN ${NAME}. udp 44 false 512" DROPPED - 0 0s`);
  });
});
