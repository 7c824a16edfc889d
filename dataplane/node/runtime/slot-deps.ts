/**
 * What a container slot (container-slot.ts) is given by its pod's runner (container-runner.ts):
 * the pod and its addresses, what its environment is resolved from, the runtime's timings, and
 * the hooks through which it reports events and changes. One value for every slot of a pod.
 */
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { ObjectLookup } from './container-env.js';
import type { ContainerRecords } from './container-records.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';
import type { BackoffPolicy } from './restart-backoff.js';
import type { PodNetpol } from './pod-ingress.js';
import type { Clock } from '../../base/clock.js';

export type EventType = 'Normal' | 'Warning';

export interface SlotDeps {
  pod: Pod;
  podIP: string;
  nodeName: string;
  hostIP: string;
  logDir: string;
  services: () => Service[];
  lookup: ObjectLookup;
  logger: Logger;
  backoff: BackoffPolicy;
  secondMs: number;
  retryMs: number;
  baseEnv: Record<string, string>;
  /** Where programs' main processes are recorded for the node agent's next run (none: not recorded). */
  records?: ContainerRecords;
  /** The pod's simulated-shell sandbox (files, network): toolbox images run in it, exec uses it. */
  sandbox?: PodSandbox;
  /** How often an adopted program is looked at to see whether it still runs (1000 ms). */
  adoptPollMs: number;
  /** NetworkPolicy enforcement for the pod's emulated listeners and its outgoing connections. */
  netpol?: PodNetpol;
  /**
   * The pod's volumes on disk, for programs (pod-volumes-dir.ts): `prepare` lays out a
   * container's mounts at its start, `adopt` for a program taken back; both return the
   * directory exported as KNET_VOLUMES_DIR.
   */
  volumes?: { prepare(c: Container): string | undefined; adopt(c: Container): string | undefined };
  /** The clock lifecycle hooks wait on (a sleep hook; a preStop hook's share of the grace period). */
  clock: Clock;
  emit(container: string, fieldPath: string, type: EventType, reason: string, message: string): void;
  /** Something about this slot changed: re-sync the pod and publish status. */
  changed(): void;
}
