/**
 * `attach`: a running container's main process as `kubectl attach` and `kubectl run -i` reach it
 * through the kubelet — its output from the moment of attaching, its stdin when the spec keeps
 * one open (`stdin: true`), its terminal size with `tty: true`. Detaching leaves it running.
 *
 * Where the output comes from: an emulated image (a toolbox's shell, agnhost, …) writes through
 * its ContainerLog, which `teeLog` also hands to the attached sessions as it is written; a
 * program's output is written to the run's log file by its shim (it must outlive the node agent,
 * container-shim.ts), so it is read from that CRI file as it grows (`followLog`, the reader
 * `pods/log` uses, from the end). Either way stdout and stderr arrive as one stream.
 *
 * `stdinOnce` (kubectl run -i sets it): the container's stdin is closed when the first attached
 * session that carried stdin ends, so `echo cmd | kubectl run -i … -- sh` ends the shell.
 */
import { readContainerLog } from '../../base/container-logs/read-log.js';
import type { LogStream } from '../../base/container-logs/cri-log-line.js';
import type { Writable } from 'node:stream';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { ContainerLog } from './container-log.js';
import { goLogLine } from './container-log.js';
import type { ContainerProcess } from './container-process.js';

export interface AttachTarget {
  /** Calls `listener` with the container's output from now on; returns the unsubscribe. */
  onOutput(listener: (chunk: Buffer) => void): () => void;
  /** The main process's stdin (spec `stdin: true` and a process that reads one). */
  stdin?: Writable;
  /** The container has a terminal (spec `tty: true`). */
  tty: boolean;
  resize(size: { cols: number; rows: number }): void;
  /** Resolves when the main process has ended and its last output was delivered. */
  exited: Promise<void>;
  /** A session that carried stdin ended: with `stdinOnce` the container's stdin closes. */
  stdinDone(): void;
}

/**
 * What one attach session connects to: the running process `proc` of `container`, its output
 * from `source` — the fanout an emulated image's log feeds, or a program's log file.
 */
export function attachTarget(proc: ContainerProcess, container: Container, source: { fanout: OutputFanout } | { file: string }): AttachTarget {
  const tails = new Set<{ finish(): Promise<void>; stop(): void }>();
  let stdinClosed = false;
  return {
    onOutput(listener) {
      if ('fanout' in source) return source.fanout.subscribe(listener);
      const tail = followLog(source.file, listener);
      tails.add(tail);
      return () => {
        tail.stop();
        tails.delete(tail);
      };
    },
    stdin: proc.stdin,
    tty: !!container.tty,
    resize: (size) => proc.resize?.(size),
    // A program's last lines are in its file by the time its exit is seen: they are read, then the session ends.
    exited: proc.exited.then(() => Promise.all([...tails].map((t) => t.finish()))).then(() => {}),
    stdinDone() {
      if (!container.stdinOnce || stdinClosed) return;
      stdinClosed = true;
      proc.stdin?.end();
    },
  };
}

/** The attached sessions of one container, fed as the container writes. */
export class OutputFanout {
  private readonly listeners = new Set<(chunk: Buffer) => void>();

  write(chunk: string | Buffer): void {
    if (this.listeners.size === 0) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const l of this.listeners) l(buf);
  }

  subscribe(listener: (chunk: Buffer) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A container log whose writes also reach the attached sessions. */
export function teeLog(log: ContainerLog, fanout: OutputFanout): ContainerLog {
  const write = (chunk: string | Buffer, stream: LogStream = 'stdout') => {
    log.write(chunk, stream);
    fanout.write(chunk);
  };
  return { path: log.path, write, goLog: (msg) => write(goLogLine(msg), 'stderr'), close: () => log.close() };
}

/**
 * A run's CRI log as it grows, from its end now (the reader `pods/log` uses, following):
 * `finish` reads what the run wrote until its end, then stops; `stop` stops at once.
 */
export function followLog(file: string, listener: (chunk: Buffer) => void): { finish(): Promise<void>; stop(): void } {
  const stopped = new AbortController();
  const ended = new AbortController();
  const reading = readContainerLog(file, { timestamps: false, tailLines: 0 }, listener, { running: () => true, signal: stopped.signal, runEnded: ended.signal }).catch(() => {});
  return {
    finish() {
      ended.abort();
      return reading;
    },
    stop: () => stopped.abort(),
  };
}
