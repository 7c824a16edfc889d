/**
 * host (BIND 9.18) inside a pod: `host [-t TYPE] NAME [SERVER]`. Uses the search list (ndots)
 * as the resolver does, asks A, AAAA and MX by default, and prints "NAME has address IP",
 * "NAME is an alias for TARGET.", "IP.in-addr.arpa domain name pointer NAME." or
 * "Host NAME not found: 3(NXDOMAIN)" (exit 1).
 */
import { isIP } from 'node:net';
import type { Answer, RecordType } from 'dns-packet';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import { askServers, resolverSettings, type PodNetwork } from '../pod-resolver.js';
import { ndotsOf } from '../resolv-conf.js';
import { searchCandidates } from '../search-path.js';
import { resolverFiles } from './net-files.js';
import { recordData, reverseName } from './dns-records.js';

const RCODE_NUMBER: Record<string, number> = { FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export function hostCommand(lib: JustBash, network: PodNetwork): Command {
  return lib.defineCommand('host', async (args, ctx) => {
    let type: RecordType | undefined;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-t') type = (args[++i] ?? 'A').toUpperCase() as RecordType;
      else if (args[i]!.startsWith('-')) continue;
      else rest.push(args[i]!);
    }
    if (rest.length === 0) return { stdout: '', stderr: 'Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n            [-R number] [-m flag] [-p port] hostname [server]\n', exitCode: 1 };
    const files = await resolverFiles(ctx.fs);
    const base = resolverSettings(files.resolvConf);
    const settings = rest[1] && isIP(rest[1]) ? { ...base, servers: [{ ip: rest[1], port: 53 }] } : base;
    const name = rest[0]!;
    const ptr = reverseName(name);
    const types: RecordType[] = type ? [type] : ptr ? ['PTR'] : ['A', 'AAAA', 'MX'];
    const candidates = ptr ? [ptr] : searchCandidates(name, settings.conf.searches, ndotsOf(settings.conf), 'glibc');
    let header = rest[1] ? `Using domain server:\nName: ${rest[1]}\nAddress: ${rest[1]}#53\nAliases: \n\n` : '';
    let lastRcode = 'NXDOMAIN';
    for (const candidate of candidates) {
      const replies = [];
      for (const t of types) {
        const r = await askServers(network, settings, candidate, t, ctx.signal);
        if (r === 'timeout') return { stdout: `;; connection timed out; no servers could be reached\n`, stderr: '', exitCode: 1 };
        replies.push(r);
      }
      lastRcode = replies[0]!.rcode;
      if (lastRcode !== 'NOERROR') continue;
      const seen = new Set<string>();
      let out = '';
      for (const r of replies) for (const a of r.message.answers ?? []) {
        const line = hostLine(a);
        if (!seen.has(line)) out += line;
        seen.add(line);
      }
      if (!out && type) out = `${candidate} has no ${type} record\n`;
      header += out;
      return { stdout: header, stderr: '', exitCode: 0 };
    }
    return { stdout: `${header}Host ${name} not found: ${RCODE_NUMBER[lastRcode] ?? 0}(${lastRcode})\n`, stderr: '', exitCode: 1 };
  });
}

function hostLine(a: Answer): string {
  switch (a.type) {
    case 'A': return `${a.name} has address ${a.data}\n`;
    case 'AAAA': return `${a.name} has IPv6 address ${a.data}\n`;
    case 'CNAME': return `${a.name} is an alias for ${recordData(a)}\n`;
    case 'PTR': return `${a.name} domain name pointer ${recordData(a)}\n`;
    case 'MX': return `${a.name} mail is handled by ${recordData(a)}\n`;
    case 'SRV': return `${a.name} has SRV record ${recordData(a)}\n`;
    case 'TXT': return `${a.name} descriptive text ${recordData(a)}\n`;
    default: return `${a.name} has ${a.type} record ${recordData(a)}\n`;
  }
}
