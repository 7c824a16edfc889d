/**
 * dig (BIND 9.18) inside a pod: `dig [@SERVER] [-p PORT] [-x ADDR] [-t TYPE] NAME [TYPE]
 * [+short] [+search] [+tcp|+notcp] [+noall] [+answer] [+question…] [+time=N] [+tries=N]
 * [+norecurse]`. As dig does, it asks the name exactly as given unless +search (then the
 * resolv.conf search list and ndots apply, and the first name that exists is shown), and its
 * server is resolv.conf's first nameserver unless @SERVER.
 */
import type { RecordType } from 'dns-packet';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import { resolverSettings, type PodNetwork } from '../pod-resolver.js';
import { ndotsOf } from '../resolv-conf.js';
import { searchCandidates } from '../search-path.js';
import { DnsTimeout, queryDns, type DnsReply } from '../dns-client.js';
import { resolverFiles } from './net-files.js';
import { digRecord, recordData, reverseName } from './dns-records.js';

export interface DigOptions {
  name: string;
  type: RecordType;
  server?: string;
  port: number;
  short: boolean;
  search: boolean;
  tcp: boolean;
  recurse: boolean;
  timeS: number;
  tries: number;
  sections: { comments: boolean; question: boolean; answer: boolean; authority: boolean; additional: boolean; stats: boolean; cmd: boolean };
}

const TYPES = new Set(['A', 'AAAA', 'ANY', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA']);

export function parseDigArgs(args: string[]): { ok: true; value: DigOptions } | { ok: false; message: string } {
  const o: DigOptions = {
    name: '',
    type: 'A',
    port: 53,
    short: false,
    search: false,
    tcp: false,
    recurse: true,
    timeS: 5,
    tries: 3,
    sections: { comments: true, question: true, answer: true, authority: true, additional: true, stats: true, cmd: true },
  };
  let typeGiven = false;
  let nameGiven = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('@')) o.server = a.slice(1);
    else if (a === '-p') o.port = Number(args[++i]);
    else if (a === '-t') {
      const t = (args[++i] ?? '').toUpperCase();
      if (!TYPES.has(t)) return { ok: false, message: `dig: invalid type: ${t}\n` };
      o.type = t as RecordType;
      typeGiven = true;
    } else if (a === '-x') {
      const ptr = reverseName(args[++i] ?? '');
      if (!ptr) return { ok: false, message: `dig: '${args[i]}' is not a legal IPv4 address\n` };
      o.name = ptr;
      o.type = 'PTR';
      nameGiven = typeGiven = true;
    } else if (a === '-4' || a === '-6') continue;
    else if (a.startsWith('+')) {
      const [flag, value] = a.slice(1).split('=', 2) as [string, string?];
      const on = !flag.startsWith('no');
      const f = on ? flag : flag.slice(2);
      if (f === 'short') o.short = on;
      else if (f === 'search') o.search = on;
      else if (f === 'tcp' || f === 'vc') o.tcp = on;
      else if (f === 'recurse') o.recurse = on;
      else if (f === 'time' && value) o.timeS = Number(value);
      else if (f === 'tries' && value) o.tries = Number(value);
      else if (f === 'retry' && value) o.tries = Number(value) + 1;
      else if (f === 'all') for (const k of Object.keys(o.sections)) o.sections[k as keyof DigOptions['sections']] = on;
      else if (f in o.sections) o.sections[f as keyof DigOptions['sections']] = on;
      else if (['stats', 'cmd', 'comments', 'edns', 'cookie', 'identify', 'ttlid', 'class', 'defname', 'showsearch'].includes(f)) continue;
      else return { ok: false, message: `Invalid option: +${flag}\nUsage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n` };
    } else if (!typeGiven && nameGiven && TYPES.has(a.toUpperCase())) {
      o.type = a.toUpperCase() as RecordType;
      typeGiven = true;
    } else if (!nameGiven) {
      o.name = a;
      nameGiven = true;
    } else if (a.toUpperCase() === 'IN') continue;
    else if (TYPES.has(a.toUpperCase())) o.type = a.toUpperCase() as RecordType;
    else o.name = a;
  }
  if (!nameGiven) {
    o.name = '.';
    o.type = 'NS';
  }
  return { ok: true, value: o };
}

export function digCommand(lib: JustBash, network: PodNetwork): Command {
  return lib.defineCommand('dig', async (args, ctx) => {
    const parsed = parseDigArgs(args);
    if (!parsed.ok) return { stdout: '', stderr: parsed.message, exitCode: 1 };
    const o = parsed.value;
    const settings = resolverSettings((await resolverFiles(ctx.fs)).resolvConf);
    const server = o.server ? { ip: o.server, port: o.port } : { ip: settings.servers[0]!.ip, port: o.port };
    const names = o.search && o.name !== '.' ? searchCandidates(o.name, settings.conf.searches, ndotsOf(settings.conf), 'glibc') : [o.name === '.' ? '' : o.name.replace(/\.$/, '')];
    let reply: DnsReply | undefined;
    let asked = names[0]!;
    try {
      for (const name of names) {
        asked = name;
        reply = await queryDns(network.endpoint, server, { name, type: o.type }, { tcp: o.tcp, timeoutMs: o.timeS * 1000, tries: o.tries, recurse: o.recurse, signal: ctx.signal });
        if (reply.rcode !== 'NXDOMAIN') break;
      }
    } catch (err) {
      if (!(err instanceof DnsTimeout)) throw err;
      const text = `;; communications error to ${server.ip}#${server.port}: timed out\n`.repeat(o.tcp ? 1 : o.tries) + `\n; <<>> DiG 9.18.33 <<>> ${args.join(' ')}\n;; global options: +cmd\n;; no servers could be reached\n`;
      return { stdout: o.short ? text.split('\n')[0] + '\n;; no servers could be reached\n' : text, stderr: '', exitCode: 9 };
    }
    const r = reply!;
    if (o.short) return { stdout: (r.message.answers ?? []).map((a) => recordData(a) + '\n').join(''), stderr: '', exitCode: 0 };
    return { stdout: digFull(o, args, asked, r), stderr: '', exitCode: 0 };
  });
}

function digFull(o: DigOptions, args: string[], asked: string, r: DnsReply): string {
  const m = r.message;
  const s = o.sections;
  const answers = m.answers ?? [];
  const authorities = m.authorities ?? [];
  const additionals = (m.additionals ?? []).filter((a) => a.type !== 'OPT');
  let out = '';
  if (s.cmd) out += `\n; <<>> DiG 9.18.33 <<>> ${args.join(' ')}\n;; global options: +cmd\n`;
  if (s.comments) {
    const flags = ['qr', m.flag_aa && 'aa', m.flag_tc && 'tc', m.flag_rd && 'rd', m.flag_ra && 'ra', m.flag_ad && 'ad', m.flag_cd && 'cd'].filter(Boolean).join(' ');
    out += `;; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: ${r.rcode}, id: ${m.id ?? 0}\n;; flags: ${flags}; QUERY: 1, ANSWER: ${answers.length}, AUTHORITY: ${authorities.length}, ADDITIONAL: ${additionals.length}\n`;
    if (o.recurse && !m.flag_ra) out += ';; WARNING: recursion requested but not available\n';
    out += '\n';
  }
  if (s.question) out += `${s.comments ? ';; QUESTION SECTION:\n' : ''};${asked ? asked + '.' : '.'}\t\t\tIN\t${o.type}\n\n`;
  if (s.answer && answers.length) out += `${s.comments ? ';; ANSWER SECTION:\n' : ''}${answers.map((a) => digRecord(a) + '\n').join('')}\n`;
  if (s.authority && authorities.length) out += `${s.comments ? ';; AUTHORITY SECTION:\n' : ''}${authorities.map((a) => digRecord(a) + '\n').join('')}\n`;
  if (s.additional && additionals.length) out += `${s.comments ? ';; ADDITIONAL SECTION:\n' : ''}${additionals.map((a) => digRecord(a) + '\n').join('')}\n`;
  if (s.stats) {
    out += `;; Query time: ${Math.round(r.elapsedMs)} msec\n;; SERVER: ${r.server.ip}#${r.server.port}(${r.server.ip}) (${r.protocol})\n;; WHEN: ${whenText(new Date())}\n;; MSG SIZE  rcvd: ${r.size}\n\n`;
  }
  return out;
}

/** dig's WHEN line: "Mon Dec 07 07:12:00 UTC 2026" (the container's clock is UTC). */
function whenText(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day} ${mon} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
