/**
 * What an earlier run of this node agent left running: the programs (containers with a
 * `command`) whose records (runtime/container-records.ts) name a process that still runs.
 * A node agent killed with SIGKILL leaves them behind, as a crashed kubelet leaves its
 * containers; its next run loads them before it reconciles a pod, and then for each pod:
 *   - still bound here, same uid, not terminal → `take`: the runtime adopts them (no restart);
 *   - being deleted                            → `stop` with the pod's remaining grace period;
 *   - gone, replaced (another uid), terminal   → `stop` at once.
 * Records of programs that exited meanwhile are dropped, with whatever their group left running.
 */
import type { Logger } from '../base/log.js';
import type { ContainerRecord, ContainerRecords } from './runtime/container-records.js';
import { adoptProcess } from './runtime/adopted-process.js';
import { stopContainer } from './runtime/container-process.js';
import { isRunning, killGroup } from './runtime/process-identity.js';

export class LeftoverContainers {
  private readonly byPod = new Map<string, ContainerRecord[]>();

  private constructor(
    private readonly records: ContainerRecords | undefined,
    private readonly log: Logger,
  ) {}

  /** Reads the records; a program that is not running any more has its group reclaimed and its record removed. */
  static async load(records: ContainerRecords | undefined, log: Logger): Promise<LeftoverContainers> {
    const leftovers = new LeftoverContainers(records, log);
    for (const r of records?.list() ?? []) {
      if (isRunning(r)) {
        leftovers.byPod.set(r.pod, [...(leftovers.byPod.get(r.pod) ?? []), r]);
        continue;
      }
      log.info('container exited while the node agent was down', { pod: r.pod, container: r.container, pid: r.pid });
      await killGroup(r);
      records!.remove(r.podUID, r.container);
    }
    if (leftovers.byPod.size) log.info('programs left running by an earlier run of this node agent', { pods: [...leftovers.byPod.keys()] });
    return leftovers;
  }

  /** Pods ("ns/name") that have programs left running. */
  pods(): string[] {
    return [...this.byPod.keys()];
  }

  /**
   * The programs of pod `key` (uid `uid`) to adopt, one per container named in its spec; any
   * other (an older pod of the same name, a container the spec does not have) is stopped.
   */
  async take(key: string, uid: string, containers: readonly string[]): Promise<ContainerRecord[]> {
    const all = this.byPod.get(key) ?? [];
    this.byPod.delete(key);
    const adopt = all.filter((r) => r.podUID === uid && containers.includes(r.container));
    await this.stopRecords(all.filter((r) => !adopt.includes(r)), 0);
    return adopt;
  }

  /** Stops pod `key`'s programs (SIGTERM, the grace period, then SIGKILL to the group). */
  async stop(key: string, graceMs: number): Promise<void> {
    const all = this.byPod.get(key) ?? [];
    this.byPod.delete(key);
    await this.stopRecords(all, graceMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.pods().map((key) => this.stop(key, 0)));
  }

  private async stopRecords(list: ContainerRecord[], graceMs: number): Promise<void> {
    await Promise.all(
      list.map(async (r) => {
        this.log.info('stopping a program left running by an earlier run of this node agent', { pod: r.pod, podUID: r.podUID, container: r.container, pid: r.pid });
        await stopContainer(adoptProcess(r, 1000), graceMs);
        this.records?.remove(r.podUID, r.container);
      }),
    );
  }
}
