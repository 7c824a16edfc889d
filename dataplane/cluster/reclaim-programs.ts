/**
 * Programs no node agent will stop any more: the processes of pods whose agent was killed and
 * not restarted — a cluster closed while an agent was down, `knet down` after the supervisor
 * died, a test process killed mid-run. Each node agent records its programs under
 * `<cluster>/nodes/<node>/containers/` (node/runtime/container-records.ts); these reclaim them
 * (SIGKILL to each process group, checked against its start time), so nothing of a cluster
 * outlives it or holds addresses of a block the next cluster takes.
 */
import path from 'node:path';
import type { Logger } from '../base/log.js';
import { reclaimContainers } from '../node/runtime/container-records.js';
import { deadLockOwners } from './state-dir.js';

/** Reclaims what the node agents of the cluster in `clusterDir` left running; returns what it stopped ("ns/pod/container (pid N)"). */
export async function reclaimPrograms(clusterDir: string, log: Logger): Promise<string[]> {
  const killed = await reclaimContainers(path.join(clusterDir, 'nodes'));
  if (killed.length) log.warn('stopped programs their node agent had left running', { cluster: clusterDir, programs: killed });
  return killed;
}

/**
 * Reclaims what clusters whose owning process died left running, from the address-block locks
 * they still hold (owner "<name> <cluster dir>"), so their blocks can be taken again.
 */
export async function reclaimDeadClusters(log: Logger): Promise<void> {
  for (const who of deadLockOwners()) {
    const dir = who.slice(who.indexOf(' ') + 1);
    if (path.isAbsolute(dir)) await reclaimPrograms(dir, log);
  }
}
