/**
 * DNS records as the lookup tools print them: nslookup's lines ("canonical name = …",
 * "service = …"), dig's presentation format (`name. TTL IN TYPE data`), and the reverse name
 * of an address. Pure.
 */
import { isIP } from 'node:net';
import type { Answer } from 'dns-packet';

/** "10.96.0.1" → "1.0.96.10.in-addr.arpa"; undefined for anything that is no IPv4 address. */
export function reverseName(text: string): string | undefined {
  if (isIP(text) !== 4) return undefined;
  return `${text.split('.').reverse().join('.')}.in-addr.arpa`;
}

const fqdn = (n: string) => (n.endsWith('.') ? n : `${n}.`);

/** nslookup's line for a record other than A/AAAA. */
export function describeAnswer(a: Answer): string {
  switch (a.type) {
    case 'CNAME': return `${a.name}\tcanonical name = ${fqdn(String(a.data))}\n`;
    case 'PTR': return `${a.name}\tname = ${fqdn(String(a.data))}\n`;
    case 'NS': return `${a.name}\tnameserver = ${fqdn(String(a.data))}\n`;
    case 'SRV': return `${a.name}\tservice = ${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${fqdn(a.data.target)}\n`;
    case 'MX': return `${a.name}\tmail exchanger = ${a.data.preference ?? 0} ${fqdn(a.data.exchange)}\n`;
    case 'TXT': return `${a.name}\ttext = "${txtOf(a.data)}"\n`;
    case 'SOA': return `${a.name}\n\torigin = ${a.data.mname}\n\tmail addr = ${a.data.rname}\n\tserial = ${a.data.serial}\n\trefresh = ${a.data.refresh}\n\tretry = ${a.data.retry}\n\texpire = ${a.data.expire}\n\tminimum = ${a.data.minimum}\n`;
    default: return '';
  }
}

/** dig's presentation of a record's data. */
export function recordData(a: Answer): string {
  switch (a.type) {
    case 'A': case 'AAAA': return String(a.data);
    case 'CNAME': case 'PTR': case 'NS': return fqdn(String(a.data));
    case 'SRV': return `${a.data.priority ?? 0} ${a.data.weight ?? 0} ${a.data.port} ${fqdn(a.data.target)}`;
    case 'MX': return `${a.data.preference ?? 0} ${fqdn(a.data.exchange)}`;
    case 'TXT': return `"${txtOf(a.data)}"`;
    case 'SOA': return `${fqdn(a.data.mname)} ${fqdn(a.data.rname)} ${a.data.serial} ${a.data.refresh} ${a.data.retry} ${a.data.expire} ${a.data.minimum}`;
    default: return '';
  }
}

/** One record line as dig prints it in a section. */
export function digRecord(a: Answer): string {
  const ttl = 'ttl' in a ? (a.ttl ?? 0) : 0;
  return `${fqdn(a.name)}\t\t${ttl}\tIN\t${a.type}\t${recordData(a)}`;
}

function txtOf(data: unknown): string {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('');
}
