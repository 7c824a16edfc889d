/**
 * Component-test support: a DNS server fed by a MemoryInformerFactory on an address of the
 * DNS block 127.50.0.0/16, and the real `dig` to ask it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { silentLogger } from '../../../dataplane/base/log.js';
import type { KObject } from '../../../dataplane/base/model/object.js';
import { startDns, type DnsServerHandle, type DnsServerOptions } from '../../../dns/server.js';
import { fixtureObjects } from '../../unit/dns/fixtures.js';

const run = promisify(execFile);
export const DIG = '/usr/bin/dig';

export async function startFixtureServer(
  address: string,
  extra: Partial<DnsServerOptions> = {},
  objects: KObject[] = fixtureObjects(),
): Promise<{ dns: DnsServerHandle; informers: MemoryInformerFactory }> {
  const informers = new MemoryInformerFactory();
  for (const o of objects) informers.upsert(o);
  const dns = await startDns({
    informers,
    config: clusterConfig(0),
    log: silentLogger,
    address,
    port: 53,
    upstream: null,
    ...extra,
  });
  return { dns, informers };
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** Runs dig against the server; record lines come back with single spaces. */
export async function dig(dns: { address: string; port: number }, args: string[]): Promise<DigResult> {
  const { stdout } = await run(
    DIG,
    [`@${dns.address}`, '-p', String(dns.port), '+time=2', '+tries=1', '+noall', '+comments', '+answer', '+authority', '+additional', ...args],
    { timeout: 15_000 },
  );
  return parseDig(stdout);
}

export function parseDig(out: string): DigResult {
  const r: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], raw: out };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of out.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) r.status = status[1]!;
    const flags = /^;; flags: ([^;]*);/.exec(line);
    if (flags) r.flags = flags[1]!.trim().split(/\s+/);
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.trim() === '') section = undefined;
    else if (section && !line.startsWith(';')) r[section].push(line.trim().split(/\s+/).join(' '));
  }
  return r;
}
