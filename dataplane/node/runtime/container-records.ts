/**
 * The node agent's pid files: one record per running program (a container with a `command`),
 * `<node state dir>/containers/<pod uid>_<container>.json`, 0600, written when the program has
 * started and removed when the agent has seen it exit.
 *
 * A program is a real process, started in a session of its own, that outlives a node agent
 * killed with SIGKILL (as containers outlive a crashed kubelet). The record is how the agent's
 * next run finds it: to adopt it (the pod keeps running, container ID and restartCount
 * unchanged), or to kill it when its pod is gone. `knet down` and a cluster's close reclaim
 * whatever records are left once the agents are stopped, so nothing outlives the cluster.
 * Each record holds the program's start time, so a reused pid is never signalled (process-identity.ts).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning, killGroup, type ProcessIdentity } from './process-identity.js';

export interface ContainerRecord extends ProcessIdentity {
  /** "namespace/name", for reading the file and for logs. */
  pod: string;
  podUID: string;
  container: string;
  containerID: string;
  /** When the container started running (its status's state.running.startedAt). */
  startedAt: string;
  restartCount: number;
}

export class ContainerRecords {
  constructor(readonly dir: string) {}

  write(record: ContainerRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(record.podUID, record.container);
    // Whole or not at all: a reader never sees half a record.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  }

  remove(podUID: string, container: string): void {
    rmSync(this.file(podUID, container), { force: true });
  }

  /** Every record (unreadable ones are dropped: they name no process that could be checked). */
  list(): ContainerRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: ContainerRecord[] = [];
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const record = parseRecord(path.join(this.dir, name));
      if (record) out.push(record);
      else rmSync(path.join(this.dir, name), { force: true });
    }
    return out;
  }

  private file(podUID: string, container: string): string {
    return path.join(this.dir, `${podUID}_${container}.json`);
  }
}

function parseRecord(file: string): ContainerRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<ContainerRecord>;
    const ok = Number.isInteger(r.pid) && r.pid! > 1 && typeof r.startTime === 'string' && typeof r.podUID === 'string' && typeof r.container === 'string';
    return ok ? (r as ContainerRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Where a node agent keeps its records, under its node state dir. */
export function containerRecordsOf(nodeStateDir: string): ContainerRecords {
  return new ContainerRecords(path.join(nodeStateDir, 'containers'));
}

/**
 * Kills every program recorded under `nodesDir` (`<nodes>/<node>/containers/*.json`), each with
 * its whole process group, waits until they are gone and removes their records. For when no
 * node agent will: after the agents were stopped (`knet down`, a cluster's close) or died with
 * the process that ran them. A leftover gets SIGKILL, not a grace period: there is no agent
 * left to give it one, and the address block must be free when this returns.
 * Returns what it killed, as "pod/container (pid N)".
 */
export async function reclaimContainers(nodesDir: string): Promise<string[]> {
  let nodes: string[];
  try {
    nodes = readdirSync(nodesDir);
  } catch {
    return [];
  }
  const killed: string[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      const records = containerRecordsOf(path.join(nodesDir, node));
      for (const r of records.list()) {
        // Also when the leader is gone: its group may still hold members (a `sh -c` child).
        const wasRunning = isRunning(r);
        await killGroup(r);
        if (wasRunning) killed.push(`${r.pod}/${r.container} (pid ${r.pid})`);
        records.remove(r.podUID, r.container);
      }
    }),
  );
  return killed;
}
