/**
 * What holds a cluster's addresses, as `ss` sees it (not knet's own /proc reader): every TCP
 * listener and bound UDP socket in the cluster's address block, with the processes holding it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ClusterConfig } from '../../dataplane/base/cluster-config.js';

export interface BlockSocket {
  proto: 'tcp' | 'udp';
  /** "address:port" */
  local: string;
  pids: number[];
}

/** The first two octets of every /16 the block uses (cluster index ≥ 1: the pod /16 and the rest). */
function blockPrefixes(config: ClusterConfig): string[] {
  const rest = config.nodeAddressBase.split('.').slice(0, 2).join('.');
  return [`${config.podPrefix}.`, `${rest}.`];
}

export function socketsInBlock(config: ClusterConfig): BlockSocket[] {
  const out = execFileSync('ss', ['-H', '-l', '-n', '-t', '-u', '-p'], { encoding: 'utf8' });
  const prefixes = blockPrefixes(config);
  const found: BlockSocket[] = [];
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = cols[4]!;
    if (!prefixes.some((p) => local.startsWith(p))) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    found.push({ proto: cols[0] === 'udp' ? 'udp' : 'tcp', local, pids });
  }
  return found;
}

/** True while `pid` exists (a zombie counts as gone: it holds no socket and runs no code). */
export function processExists(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function statField(pid: number, field: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields counted after the command name, which may hold spaces: field 3 (state) comes first.
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[field - 3]);
}

/** The process group of a running process (for a container's program: its main process). */
export function processGroupOf(pid: number): number {
  return statField(pid, 5);
}

/** The parent of a running process (for a container's main process: the node agent that started it). */
export function parentOf(pid: number): number {
  return statField(pid, 4);
}
