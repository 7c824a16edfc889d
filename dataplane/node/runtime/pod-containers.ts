/**
 * A pod's containers and the order the kubelet's syncPod starts them in:
 *   1. volumes: while a Secret/ConfigMap (or a projected token's service account) a volume needs
 *      is missing, every container waits in ContainerCreating (PodInitializing behind init
 *      containers) with a FailedMount event, rechecked every `retryMs` or on the next `sync()`;
 *   2. init containers one at a time, each to a successful exit;
 *   3. the regular containers together.
 * Ephemeral containers (`kubectl debug`), added to the running pod's spec, begin as soon as the
 * volumes are there, before init containers (the kubelet's SyncPod step 5 starts them "prior"
 * to init containers, so a pod stuck initializing can still be debugged); each runs once.
 * Each container is a ContainerSlot (container-slot.ts); this decides only when a slot begins.
 * `sandboxReady` is what the PodReadyToStartContainers condition reports.
 */
import type { EphemeralContainer, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { metaTime } from '../../base/model/meta-time.js';
import { ContainerSlot } from './container-slot.js';
import type { ContainerRecord } from './container-records.js';
import { resumeContainer } from './container-resume.js';
import type { RestartPolicy } from './pod-status.js';
import type { SlotDeps } from './slot-deps.js';
import { missingVolumeSources } from './volume-sources.js';

export class PodContainers {
  readonly init: ContainerSlot[];
  readonly main: ContainerSlot[];
  readonly ephemeral: ContainerSlot[] = [];
  /** The pod's volumes are there (PodReadyToStartContainers). */
  sandboxReady = false;
  private readonly hasInit: boolean;
  private mountMessages = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly pod: Pod,
    private readonly deps: SlotDeps,
    private readonly hooks: {
      /** A FailedMount event (about the pod, no container). */
      failedMount(message: string): void;
      /** The pod's status changed (a waiting reason, PodReadyToStartContainers). */
      statusChanged(): void;
    },
  ) {
    const initContainers = pod.spec?.initContainers ?? [];
    this.hasInit = initContainers.length > 0;
    this.init = initContainers.map((c) => new ContainerSlot(c, true, deps, 'PodInitializing'));
    this.main = (pod.spec?.containers ?? []).map((c) => new ContainerSlot(c, false, deps, this.hasInit ? 'PodInitializing' : 'ContainerCreating'));
    this.addEphemeral(pod.spec?.ephemeralContainers ?? []);
  }

  /** The init and regular containers (ephemeral ones are apart: they do not make the pod's phase). */
  get all(): ContainerSlot[] {
    return [...this.init, ...this.main];
  }

  /** A container by name (names are unique across init, regular and ephemeral containers). */
  find(name: string): ContainerSlot | undefined {
    return [...this.main, ...this.init, ...this.ephemeral].find((s) => s.name === name);
  }

  /** The pod's spec now lists these ephemeral containers: slots for the new ones; true when there were any. */
  addEphemeral(containers: readonly EphemeralContainer[]): boolean {
    if (this.stopped) return false;
    const fresh = containers.filter((c) => !this.find(c.name));
    // An EphemeralContainer is a Container (EphemeralContainerCommon) with a target, which knet's one sandbox per pod makes moot.
    for (const c of fresh) this.ephemeral.push(new ContainerSlot(c, false, this.deps, 'ContainerCreating', true));
    return fresh.length > 0;
  }

  /**
   * The pod as an earlier run of the node agent left it: programs still running are adopted,
   * every other container carries on from the status that run reported (container-resume.ts).
   */
  resume(running: ContainerRecord[], status: PodStatus | undefined, restartPolicy: RestartPolicy): void {
    const was = new Map([...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? []), ...(status?.ephemeralContainerStatuses ?? [])].map((c) => [c.name, c]));
    const now = metaTime();
    for (const s of this.all) {
      const record = running.find((r) => r.container === s.name);
      if (record) s.adopt(record, was.get(s.name));
      else s.resume(resumeContainer(was.get(s.name), { isInit: s.isInit, restartPolicy, now }));
    }
    // An ephemeral program still running is taken back; one that has run is never run again, even when it died with the agent.
    for (const s of this.ephemeral) {
      const record = running.find((r) => r.container === s.name);
      if (record) s.adopt(record, was.get(s.name));
      else s.resume(resumeContainer(was.get(s.name), { isInit: false, restartPolicy: 'Never', now }));
    }
    // A program still runs: its sandbox (the pod IP and volumes) was ready.
    this.sandboxReady = running.length > 0;
  }

  /** Begins whatever may begin now. */
  sync(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const problems = missingVolumeSources(this.pod, this.deps.lookup);
    if (problems.length > 0) {
      this.sandboxReady = false;
      const now = new Set(problems.map((p) => p.message));
      // Once per problem, as the kubelet's event recorder would dedupe a repeated FailedMount.
      for (const m of now) if (!this.mountMessages.has(m)) this.hooks.failedMount(m);
      this.mountMessages = now;
      for (const s of this.all) s.setWaitingReason(s.isInit || this.hasInit ? 'PodInitializing' : 'ContainerCreating');
      this.retryTimer = setTimeout(() => this.sync(), this.deps.retryMs);
      this.hooks.statusChanged();
      return;
    }
    this.mountMessages.clear();
    if (!this.sandboxReady) {
      this.sandboxReady = true;
      this.hooks.statusChanged();
    }
    for (const e of this.ephemeral) if (e.idle) e.begin();
    for (const init of this.init) {
      if (init.succeeded) continue;
      // A failed init container under restartPolicy Never fails the pod; otherwise its slot restarts it.
      if (init.idle) init.begin();
      return;
    }
    for (const s of this.main) if (s.idle) s.begin();
  }

  /** SIGTERM to every container, SIGKILL after the grace period; resolves when all have stopped. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await Promise.all([...this.all, ...this.ephemeral].map((s) => s.stop(graceMs)));
  }
}
