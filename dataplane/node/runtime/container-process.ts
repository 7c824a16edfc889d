/**
 * What every container implementation (emulated image, identity responder, real process) offers
 * the runner: an exit that resolves once, and the two signals the kubelet sends. Each image
 * decides what SIGTERM means to it (agnhost netexec exits after --delay-shutdown, serve-hostname
 * keeps serving, the identity responder closes at once); the runner enforces the grace period
 * with SIGKILL, so stopping is uniform.
 */
import type { Writable } from 'node:stream';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../base/log.js';
import type { ContainerLog } from './container-log.js';
import type { ProcessIdentity } from './process-identity.js';
import type { PodNetpol } from './pod-ingress.js';

export interface ContainerExit {
  exitCode: number;
  /** Signal number when the process died of a signal (exitCode is then 128 + signal). */
  signal?: number;
  /** Set when the container could not start at all (the kubelet's StartError). */
  startError?: string;
  /**
   * Set when the exit code is not known (a program adopted from an earlier node agent run: only
   * a process's parent learns it). Reported as the kubelet reports a container it lost track of:
   * reason ContainerStatusUnknown, exit code 137, this message.
   */
  statusUnknown?: string;
}

export type StopSignal = 'SIGTERM' | 'SIGKILL';

export interface ContainerProcess {
  readonly exited: Promise<ContainerExit>;
  /** Set when the runtime could not start it at all; `exited` has then resolved already. */
  readonly startError?: string;
  /** A real process (a program): its main process, which a node agent records to find it after a restart. */
  readonly identity?: ProcessIdentity;
  /** The main process's stdin when the container keeps one open (`stdin: true`): what `attach` writes to. */
  readonly stdin?: Writable;
  /** The container's terminal got a new size (`tty: true`, an attached client's window). */
  resize?(size: { cols: number; rows: number }): void;
  signal(sig: StopSignal): void;
}

/** Everything an image needs to run one container of a pod. */
export interface ContainerContext {
  pod: Pod;
  container: Container;
  podIP: string;
  nodeName: string;
  /** What the container sees as its hostname (spec.hostname or the pod name). */
  hostname: string;
  env: ReadonlyMap<string, string>;
  /** command and args after `$(VAR)` expansion. */
  command: string[];
  args: string[];
  log: ContainerLog;
  logger: Logger;
  /** NetworkPolicy enforcement at the pod's listeners and for connections made as the pod (none: not enforced). */
  netpol?: PodNetpol;
}

export const SIGNAL_NUMBER: Record<StopSignal, number> = { SIGTERM: 15, SIGKILL: 9 };

/** SIGTERM, wait up to graceMs for the exit, then SIGKILL (the kubelet's killContainer). */
export async function stopContainer(proc: ContainerProcess, graceMs: number): Promise<ContainerExit> {
  let timer: NodeJS.Timeout | undefined;
  proc.signal('SIGTERM');
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, graceMs));
  });
  const first = await Promise.race([proc.exited, graceOver]);
  clearTimeout(timer);
  if (first === 'timeout') proc.signal('SIGKILL');
  return proc.exited;
}

/** A bind error as a line a user can act on (EACCES below 1024 names the fixes, per DESIGN §1). */
export function describeBindError(err: NodeJS.ErrnoException, address: string, port: number, proto = 'tcp'): string {
  if (err.code === 'EACCES') {
    return (
      `listen ${proto} ${address}:${port}: bind: permission denied — ports below 1024 need privilege: ` +
      `run knet with sudo, or \`sudo sysctl net.ipv4.ip_unprivileged_port_start=0\`, ` +
      `or \`sudo setcap cap_net_bind_service=+ep $(command -v node)\``
    );
  }
  if (err.code === 'EADDRINUSE') return `listen ${proto} ${address}:${port}: bind: address already in use`;
  if (err.code === 'EADDRNOTAVAIL') {
    return `listen ${proto} ${address}:${port}: bind: cannot assign requested address (on macOS run \`sudo ifconfig lo0 alias ${address} up\`)`;
  }
  return `listen ${proto} ${address}:${port}: ${err.message}`;
}
