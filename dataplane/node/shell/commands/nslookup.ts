/**
 * nslookup inside a pod, in the two forms toolbox images ship:
 *   busybox (busybox, alpine, curlimages/curl; after networking/nslookup.c of busybox 1.36):
 *     asks A and AAAA for the name with each search domain appended when it has no dot (as
 *     it is otherwise), prints each reply, and "** server can't find …: NXDOMAIN" for every
 *     candidate that does not exist — so `nslookup web` in a pod prints the ClusterIP and exits
 *     1, as it does in a real cluster (why the Kubernetes docs pin busybox:1.28);
 *   bind (netshoot, jessie-dnsutils): walks the search list like the resolver (ndots) and
 *     prints the first name that answers.
 * `nslookup NAME SERVER` asks SERVER instead of resolv.conf's nameservers; `-type=`,
 * `-port=`, `-timeout=`, `-retry=` as busybox accepts them.
 */
import { isIP } from 'node:net';
import type { RecordType } from 'dns-packet';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import { askServers, resolverSettings, type PodNetwork, type ResolverSettings } from '../pod-resolver.js';
import { ndotsOf } from '../resolv-conf.js';
import { searchCandidates } from '../search-path.js';
import type { DnsReply } from '../dns-client.js';
import { resolverFiles } from './net-files.js';
import { describeAnswer, reverseName } from './dns-records.js';

export interface NslookupOptions {
  name: string;
  server?: string;
  types: RecordType[];
  port: number;
  timeoutS: number;
  retry: number;
}

const TYPES = new Set(['SOA', 'NS', 'A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'PTR', 'ANY']);

export function parseNslookupArgs(args: string[]): { ok: true; value: NslookupOptions } | { ok: false; message: string } {
  const usage = 'BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n\nQuery DNS about HOST\n\nQUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,any,srv,ptr\n';
  const o: NslookupOptions = { name: '', types: [], port: 53, timeoutS: 5, retry: 2 };
  const rest: string[] = [];
  for (const a of args) {
    if (!a.startsWith('-') || rest.length > 0) {
      rest.push(a);
      continue;
    }
    const [key, value = ''] = a.slice(1).split('=', 2) as [string, string?];
    if (key === 'type' || key === 'querytype' || key === 'query' || key === 'q') {
      const t = value.toUpperCase();
      if (!TYPES.has(t)) return { ok: false, message: `nslookup: invalid query type "${value}"\n` };
      o.types.push(t as RecordType);
    } else if (key === 'port' && /^\d+$/.test(value)) o.port = Number(value);
    else if ((key === 'timeout' || key === 't') && /^\d+$/.test(value)) o.timeoutS = Number(value);
    else if (key === 'retry' && /^\d+$/.test(value)) o.retry = Number(value);
    else if (key === 'debug') continue;
    else return { ok: false, message: usage };
  }
  if (rest.length === 0 || rest.length > 2) return { ok: false, message: usage };
  o.name = rest[0]!;
  o.server = rest[1];
  return { ok: true, value: o };
}

export function nslookupCommand(lib: JustBash, network: PodNetwork): Command {
  return lib.defineCommand('nslookup', async (args, ctx) => {
    const parsed = parseNslookupArgs(args);
    if (!parsed.ok) return { stdout: '', stderr: parsed.message, exitCode: 1 };
    const o = parsed.value;
    const files = await resolverFiles(ctx.fs);
    const base = resolverSettings(files.resolvConf);
    const settings: ResolverSettings = {
      ...base,
      servers: o.server ? [{ ip: o.server, port: o.port }] : base.servers.map((s) => ({ ...s, port: o.port })),
      timeoutMs: o.timeoutS * 1000,
      attempts: o.retry,
    };
    if (o.server && !isIP(o.server)) return { stdout: '', stderr: `nslookup: bad address '${o.server}'\n`, exitCode: 1 };
    return network.nslookup === 'busybox' ? busybox(network, settings, o, ctx.signal) : bind(network, settings, o, ctx.signal);
  });
}

async function busybox(network: PodNetwork, settings: ResolverSettings, o: NslookupOptions, signal?: AbortSignal) {
  const queries: Array<{ name: string; type: RecordType }> = [];
  const ptr = reverseName(o.name);
  const withSearch = (type: RecordType) => {
    if (type === 'PTR' || o.name.includes('.') || settings.conf.searches.length === 0) queries.push({ name: o.name.replace(/\.$/, ''), type });
    else for (const d of settings.conf.searches) queries.push({ name: `${o.name}.${d}`, type });
  };
  if (o.types.length === 0) {
    if (ptr) queries.push({ name: ptr, type: 'PTR' });
    else {
      withSearch('A');
      withSearch('AAAA');
    }
  } else for (const t of o.types) withSearch(t);
  let out = '';
  let exitCode = 0;
  let header = false;
  for (const server of settings.servers) {
    const replies = await Promise.all(queries.map((q) => askServers(network, { ...settings, servers: [server] }, q.name, q.type, signal)));
    if (replies.every((r) => r === 'timeout')) continue;
    if (!header) {
      out += `Server:\t\t${server.ip}\nAddress:\t${server.ip}:${server.port}\n\n`;
      header = true;
    }
    let unanswered = '';
    replies.forEach((r, i) => {
      if (r === 'timeout') {
        unanswered += `*** Can't find ${queries[i]!.name}: No answer\n`;
        return;
      }
      if (r.rcode !== 'NOERROR') {
        out += `** server can't find ${queries[i]!.name}: ${r.rcode}\n\n`;
        exitCode = 1;
        return;
      }
      if (!r.message.flag_aa) out += 'Non-authoritative answer:\n';
      out += busyboxAnswers(r) + '\n';
    });
    if (unanswered) out += unanswered + '\n';
    return { stdout: out, stderr: '', exitCode };
  }
  return { stdout: ';; connection timed out; no servers could be reached\n\n', stderr: '', exitCode: 1 };
}

function busyboxAnswers(r: DnsReply): string {
  let out = '';
  for (const a of r.message.answers ?? []) {
    if (a.type === 'A' || a.type === 'AAAA') out += `Name:\t${a.name}\nAddress: ${String(a.data)}\n`;
    else out += describeAnswer(a);
  }
  return out;
}

async function bind(network: PodNetwork, settings: ResolverSettings, o: NslookupOptions, signal?: AbortSignal) {
  const ptr = reverseName(o.name);
  const types: RecordType[] = o.types.length ? o.types : ptr ? ['PTR'] : ['A', 'AAAA'];
  const candidates = ptr ? [ptr] : searchCandidates(o.name, settings.conf.searches, ndotsOf(settings.conf), 'glibc');
  const server = settings.servers[0]!;
  let out = `Server:\t\t${server.ip}\nAddress:\t${server.ip}#${server.port}\n\n`;
  let lastRcode = 'NXDOMAIN';
  for (const name of candidates) {
    const first = await askServers(network, settings, name, types[0]!, signal);
    if (first === 'timeout') return { stdout: ';; connection timed out; no servers could be reached\n\n', stderr: '', exitCode: 1 };
    lastRcode = first.rcode;
    if (first.rcode !== 'NOERROR') continue;
    const rest = await Promise.all(types.slice(1).map((t) => askServers(network, settings, name, t, signal)));
    const replies = [first, ...rest].filter((r): r is DnsReply => r !== 'timeout' && r.rcode === 'NOERROR');
    if (replies.every((r) => (r.message.answers ?? []).length === 0)) {
      lastRcode = 'NOERROR';
      continue;
    }
    if (!first.message.flag_aa) out += 'Non-authoritative answer:\n';
    for (const r of replies) for (const a of r.message.answers ?? []) out += a.type === 'A' || a.type === 'AAAA' ? `Name:\t${a.name}\nAddress: ${String(a.data)}\n` : describeAnswer(a);
    return { stdout: out + '\n', stderr: '', exitCode: 0 };
  }
  out += lastRcode === 'NOERROR' ? `*** Can't find ${o.name}: No answer\n\n` : `** server can't find ${o.name}: ${lastRcode}\n\n`;
  return { stdout: out, stderr: '', exitCode: 1 };
}
