import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRecord, Rcode, RRClass, RRType, type ResourceRecord } from '../../../dns/records.js';
import { decodeMessage, findOpt, parseQuery } from '../../../dns/wire-decode.js';
import { encodeMessage, encodeOpt, FLAG_QR, FLAG_RD, FLAG_TC } from '../../../dns/wire-encode.js';
import { readName, splitName } from '../../../dns/wire-name.js';

const IN = RRClass.IN;
const A = (name: string, ip: string): ResourceRecord => ({
  name,
  type: RRType.A,
  class: IN,
  ttl: 30,
  data: { kind: 'address', bytes: Uint8Array.from(ip.split('.').map(Number)) },
});

function query(name: string, type: number, extra: Buffer[] = [], flags = FLAG_RD): Buffer {
  const q = encodeMessage({ id: 0xbeef, flags, question: { name, type, class: IN }, answer: [], authority: [], additional: [], budget: 512 }).bytes;
  const out = Buffer.concat([q, ...extra]);
  out.writeUInt16BE(extra.length, 10);
  return out;
}

describe('names on the wire', () => {
  it('reads compression pointers and rejects loops and forward pointers', () => {
    // "a.b" at 0, then "c" + pointer to 0.
    const buf = Buffer.from([1, 0x61, 1, 0x62, 0, 1, 0x63, 0xc0, 0x00]);
    expect(readName(buf, 5)).toEqual({ name: 'c.a.b', end: 9 });
    expect(readName(Buffer.from([0xc0, 0x00]), 0)).toBeUndefined();
    expect(readName(Buffer.from([0xc0, 0x02, 0]), 0)).toBeUndefined();
    expect(readName(Buffer.from([5, 0x61]), 0)).toBeUndefined();
    expect(readName(Buffer.from([0x40, 0x61]), 0)).toBeUndefined();
  });

  it('rejects names over 255 bytes', () => {
    const label = [63, ...Buffer.alloc(63, 0x61)];
    expect(readName(Buffer.from([...label, ...label, ...label, ...label, 0]), 0)).toBeUndefined();
    expect(readName(Buffer.from([...label, ...label, ...label, 0]), 0)).toBeDefined();
  });

  it('escapes dots, backslashes and unprintable bytes, and reads back the same bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 6 }), (labels) => {
        const wire = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
        const text = readName(wire, 0)!.name;
        expect(text).toMatch(/^[\x21-\x7e]*$/);
        const split = splitName(text)!;
        expect(split.labels.map((l) => Buffer.from(l).toString('hex'))).toEqual(labels.map((l) => Buffer.from(l).toString('hex')));
      }),
    );
  });
});

describe('encodeMessage', () => {
  it('compresses owners into the question: a compressed A record is 16 bytes', () => {
    const q = { name: 'web.prod.svc.cluster.local', type: RRType.A, class: IN };
    const one = encodeMessage({ id: 1, flags: FLAG_QR, question: q, answer: [A(q.name, '10.0.0.1')], authority: [], additional: [], budget: 512 });
    const two = encodeMessage({ id: 1, flags: FLAG_QR, question: q, answer: [A(q.name, '10.0.0.1'), A(q.name, '10.0.0.2')], authority: [], additional: [], budget: 512 });
    expect(two.bytes.length - one.bytes.length).toBe(16);
    expect(one.bytes.readUInt16BE(12 + 28 + 4)).toBe(0xc00c);
    expect(two.runs).toEqual([one.bytes.length - 16, 2, 16]);
  });

  it('cuts at the budget like miekg Truncate and sets TC', () => {
    const q = { name: 'big.prod.svc.cluster.local', type: RRType.A, class: IN };
    const answer = Array.from({ length: 100 }, (_, i) => A(q.name, `10.0.0.${i}`));
    const enc = encodeMessage({ id: 1, flags: FLAG_QR, question: q, answer, authority: [], additional: [A('x.y', '1.2.3.4')], budget: 512 });
    expect(enc.truncated).toBe(true);
    expect(enc.bytes.length).toBeLessThanOrEqual(512);
    expect(enc.bytes.readUInt16BE(2) & FLAG_TC).toBe(FLAG_TC);
    expect(enc.bytes.readUInt16BE(6)).toBe(29);
    expect(enc.bytes.readUInt16BE(10)).toBe(0);
    const fits = encodeMessage({ id: 1, flags: FLAG_QR, question: q, answer: answer.slice(0, 2), authority: [], additional: [], budget: 512 });
    expect(fits.truncated).toBe(false);
  });

  it('writes SRV targets literally and notes where question text was copied', () => {
    const q = { name: '_HTTP._TCP.SVC1.TESTNS.SVC.CLUSTER.LOCAL', type: RRType.SRV, class: IN };
    const srv: ResourceRecord = {
      name: q.name,
      type: RRType.SRV,
      class: IN,
      ttl: 30,
      data: { kind: 'srv', priority: 0, weight: 100, port: 80, target: 'svc1.testns.svc.CLUSTER.LOCAL' },
    };
    const enc = encodeMessage({ id: 1, flags: FLAG_QR, question: q, answer: [srv], authority: [], additional: [A('svc1.testns.svc.CLUSTER.LOCAL', '10.96.7.1')], budget: 512 });
    expect(enc.patches).toHaveLength(3);
    const [off, len, qoff] = enc.patches as [number, number, number];
    expect(enc.bytes.subarray(off, off + len).toString('latin1')).toContain('CLUSTER');
    expect(enc.bytes.subarray(qoff, qoff + len).equals(enc.bytes.subarray(off, off + len))).toBe(true);
    const back = decodeMessage(enc.bytes)!;
    expect(back.answer.map(formatRecord)).toEqual(['_HTTP._TCP.SVC1.TESTNS.SVC.CLUSTER.LOCAL. 30 IN SRV 0 100 80 svc1.testns.svc.CLUSTER.LOCAL.']);
  });

  it('round-trips records through decodeMessage', () => {
    const q = { name: 'ext.prod.svc.cluster.local', type: RRType.A, class: IN };
    const cname: ResourceRecord = { name: q.name, type: RRType.CNAME, class: IN, ttl: 30, data: { kind: 'name', target: 'web.prod.svc.cluster.local' } };
    const enc = encodeMessage({ id: 9, flags: FLAG_QR, question: q, answer: [cname, A('web.prod.svc.cluster.local', '10.96.5.5')], authority: [], additional: [], budget: 512 });
    const back = decodeMessage(enc.bytes)!;
    expect(back.id).toBe(9);
    expect(back.questions).toEqual([q]);
    expect(back.answer.map(formatRecord)).toEqual([
      'ext.prod.svc.cluster.local. 30 IN CNAME web.prod.svc.cluster.local.',
      'web.prod.svc.cluster.local. 30 IN A 10.96.5.5',
    ]);
  });
});

describe('parseQuery (miekg/dns acceptance)', () => {
  it('accepts a query and reads EDNS', () => {
    const p = parseQuery(query('a.b', RRType.A, [encodeOpt(4096, 0, true, [{ code: 10, data: Buffer.alloc(8) }])]));
    expect(p.kind).toBe('query');
    if (p.kind !== 'query') return;
    expect(p.query.question).toEqual({ name: 'a.b', type: RRType.A, class: IN });
    expect(p.query.edns).toMatchObject({ udpSize: 4096, version: 0, dnssecOk: true });
    expect(p.query.options.map((o) => [o.code, Buffer.from(o.data).toString("hex")])).toEqual([[10, "0000000000000000"]]);
  });

  it.each<[string, () => Buffer, string, number?]>([
    ['too short', () => Buffer.alloc(11), 'ignore'],
    ['a response', () => query('a.b', RRType.A, [], FLAG_QR), 'ignore'],
    ['opcode STATUS', () => query('a.b', RRType.A, [], 2 << 11), 'reject', Rcode.NOTIMP],
    ['opcode UPDATE', () => query('a.b', RRType.A, [], 5 << 11), 'reject', Rcode.NOTIMP],
    ['two questions', () => {
      const q = query('a.b', RRType.A);
      q.writeUInt16BE(2, 4);
      return q;
    }, 'reject', Rcode.FORMERR],
    ['three additional records', () => {
      const q = query('a.b', RRType.A);
      q.writeUInt16BE(3, 10);
      return q;
    }, 'reject', Rcode.FORMERR],
    ['a truncated question', () => query('a.b', RRType.A).subarray(0, 15), 'reject', Rcode.FORMERR],
    ['two OPT records', () => query('a.b', RRType.A, [encodeOpt(512, 0, false, []), encodeOpt(512, 0, false, [])]), 'reject', Rcode.FORMERR],
    ['an OPT with a broken option', () => {
      const opt = encodeOpt(512, 0, false, [{ code: 10, data: Buffer.alloc(8) }]);
      opt.writeUInt16BE(50, 13);
      return query('a.b', RRType.A, [opt]);
    }, 'reject', Rcode.FORMERR],
  ])('%s', (_what, make, kind, rcode) => {
    const p = parseQuery(make());
    expect(p.kind).toBe(kind);
    if (p.kind === 'reject') expect(p.rcode).toBe(rcode);
  });

  it('never throws on any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        parseQuery(Buffer.from(bytes));
        decodeMessage(Buffer.from(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('findOpt', () => {
  const reply = (additional: ResourceRecord[], opt?: Buffer) => {
    const enc = encodeMessage({ id: 1, flags: FLAG_QR, question: { name: 'a.example', type: RRType.A, class: IN }, answer: [A('a.example', '192.0.2.1')], authority: [], additional, budget: 4096 }).bytes;
    if (!opt) return enc;
    const out = Buffer.concat([enc, opt]);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    return out;
  };

  it('finds the OPT behind other additional records, -1 without one', () => {
    const bare = reply([A('glue.example', '192.0.2.2')]);
    expect(findOpt(bare)).toBe(-1);
    const withOpt = reply([A('glue.example', '192.0.2.2')], encodeOpt(4096, 0, true, [{ code: 10, data: Buffer.alloc(8, 1) }]));
    expect(findOpt(withOpt)).toBe(bare.length);
    expect(withOpt.readUInt16BE(bare.length + 3)).toBe(4096);
  });

  it('undefined for a message it cannot walk, never a throw', () => {
    const withOpt = reply([], encodeOpt(1232, 0, false, []));
    for (let cut = 0; cut < withOpt.length; cut++) expect(findOpt(withOpt.subarray(0, cut))).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void findOpt(bytes)));
  });
});
