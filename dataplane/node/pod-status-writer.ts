/**
 * The status of the pods this node runs, written to the store as the kubelet's status manager
 * writes it: one write at a time per pod, always the runtime's latest status (so an older status
 * can never land after a newer one and leave a pod stuck NotReady), skipped when nothing but
 * transition times changed, retried after a failure. A condition keeps its lastTransitionTime
 * while its status stays the same. A pod that ran to completion gives its address back once its
 * terminal status has been written, as the sandbox's teardown does.
 */
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { Logger } from '../base/log.js';
import { podQOSClass } from '../base/model/pod-qos.js';
import { metaTime } from '../base/model/meta-time.js';
import type { PodHandle, PodRuntimeStatus } from './runtime/container-runner.js';
import type { PodIPClaims } from './pod-ip-claims.js';

/** A pod this agent runs, by "ns/name". */
export interface RunningPod {
  handle: PodHandle;
  /** The pod as it was started (its spec: containers and their ports). */
  pod: Pod;
  uid: string;
  ip: string;
  startTime: string;
  /** Its stop, once begun: a second stop waits for the same one. */
  stopping?: Promise<void>;
  /** The status write in flight, and whether another must follow it (the status changed meanwhile). */
  writing?: Promise<void>;
  writeAgain?: boolean;
  /** Its address went back to the pool (it ran to completion). */
  released?: boolean;
}

export interface PodStatusWriterOptions {
  store: ObjectStore;
  running: ReadonlyMap<string, RunningPod>;
  /** The node's IP (status.hostIP). */
  hostIP: string;
  claims: PodIPClaims;
  log: Logger;
  /** True while nothing may be written: the node is stopped (a fault) or the agent is closing. */
  paused(): boolean;
  /** A pod that ran to completion gave its address back (its sandbox is gone: host ports close). */
  released?(key: string): void;
}

export class PodStatusWriter {
  /** What was last written per pod, without transition times: an unchanged status is not written again. */
  private readonly lastWritten = new Map<string, string>();

  constructor(private readonly opts: PodStatusWriterOptions) {}

  /** Resolves once a write that carries the pod's status as of this call has been attempted. */
  request(key: string): Promise<void> {
    const r = this.opts.running.get(key);
    if (!r) return Promise.resolve();
    if (r.writing) {
      r.writeAgain = true;
      return r.writing;
    }
    r.writing = (async () => {
      do {
        r.writeAgain = false;
        const status = r.handle.status();
        await this.write(key, status, r.ip, r.startTime);
        if ((status.phase === 'Succeeded' || status.phase === 'Failed') && !r.released && this.lastWritten.has(key)) {
          r.released = true;
          this.opts.released?.(key);
          await this.opts.claims.release(r.ip, key);
        }
      } while (r.writeAgain && this.opts.running.get(key) === r);
      r.writing = undefined;
    })();
    return r.writing;
  }

  /** The pod stopped here: a later run of it is written in full. */
  forget(key: string): void {
    this.lastWritten.delete(key);
  }

  /** Every running pod's status again: the node is Ready again, and the node lifecycle controller marked its pods NotReady meanwhile. */
  rewriteAll(): void {
    this.lastWritten.clear();
    for (const key of this.opts.running.keys()) void this.request(key);
  }

  private async write(key: string, s: PodRuntimeStatus, podIP: string, startTime: string): Promise<void> {
    const { store, hostIP: ip, running, log } = this.opts;
    if (this.opts.paused()) return;
    const [ns, podName] = key.split('/') as [string, string];
    const status: PodStatus = {
      phase: s.phase,
      conditions: [...s.conditions.filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True' }],
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime,
      containerStatuses: s.containerStatuses,
      ...(s.initContainerStatuses.length ? { initContainerStatuses: s.initContainerStatuses } : {}),
      ...(s.ephemeralContainerStatuses.length ? { ephemeralContainerStatuses: s.ephemeralContainerStatuses } : {}),
    };
    const fingerprint = JSON.stringify(status, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v));
    if (this.lastWritten.get(key) === fingerprint) return;
    try {
      await store.mutate<Pod>(
        'Pod',
        ns,
        podName,
        (p) => {
          if (p.metadata?.uid !== running.get(key)?.uid) return undefined;
          const prior = new Map((p.status?.conditions ?? []).map((c) => [c.type, c]));
          const conditions = status.conditions!.map((c) => {
            const was = prior.get(c.type);
            return { ...c, lastTransitionTime: was && was.status === c.status ? was.lastTransitionTime : metaTime() };
          });
          return { ...p, status: { ...status, startTime: p.status?.startTime ?? startTime, conditions, qosClass: podQOSClass(p) } };
        },
        { status: true },
      );
      this.lastWritten.set(key, fingerprint);
    } catch (err) {
      log.warn('could not write pod status; retrying', { pod: key, error: err as Error });
      setTimeout(() => this.request(key), 500).unref();
    }
  }
}
