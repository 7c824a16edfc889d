/**
 * DNS message vocabulary shared by the answer core and the wire codec: type, class and rcode
 * numbers, the resource-record model, and presentation text for logs and tests.
 *
 * Names are presentation text without the trailing dot ('' is the root); a label holding a
 * '.', '\\' or a byte outside printable ASCII is written with RFC 1035 escapes (`\.`, `\\`,
 * `\DDD`), so every string maps to exactly one wire name.
 */
import { formatIPv6 } from './ip-address.js';

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export const Opcode = { QUERY: 0, NOTIFY: 4 } as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(RRType).map(([k, v]) => [v, k]));
const CLASS_NAMES = new Map<number, string>(Object.entries(RRClass).map(([k, v]) => [v, k]));
const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

export function typeName(t: number): string {
  return TYPE_NAMES.get(t) ?? `TYPE${t}`;
}

export function className(c: number): string {
  return CLASS_NAMES.get(c) ?? `CLASS${c}`;
}

export function rcodeName(r: number): string {
  return RCODE_NAMES.get(r) ?? `RCODE${r}`;
}

/** The type number for a name such as "AAAA" or "TYPE65", or undefined. */
export function typeFromName(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (RRType as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  return m && Number(m[1]) < 65536 ? Number(m[1]) : undefined;
}

export type RData =
  /** A (4 bytes) or AAAA (16 bytes). */
  | { kind: 'address'; bytes: Uint8Array }
  /** CNAME, PTR, NS. */
  | { kind: 'name'; target: string }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'txt'; texts: string[] }
  | {
      kind: 'soa';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  /** Anything else, copied as is (only for records that hold no compressible names). */
  | { kind: 'raw'; bytes: Uint8Array };

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: RData;
}

export interface Question {
  /** As sent: case preserved. */
  name: string;
  type: number;
  class: number;
}

/** "web.prod.svc.cluster.local. 30 IN A 10.0.0.1", as dig prints it (tabs aside). */
export function formatRecord(rr: ResourceRecord): string {
  return `${fqdn(rr.name)} ${rr.ttl} ${className(rr.class)} ${typeName(rr.type)} ${formatRData(rr.data)}`;
}

export function formatRData(d: RData): string {
  switch (d.kind) {
    case 'address':
      return d.bytes.length === 4 ? [...d.bytes].join('.') : formatIPv6(d.bytes);
    case 'name':
      return fqdn(d.target);
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`;
    case 'txt':
      return d.texts.map((t) => JSON.stringify(t)).join(' ');
    case 'soa':
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'raw':
      return `\\# ${d.bytes.length} ${Buffer.from(d.bytes).toString('hex')}`;
  }
}

export function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

