/**
 * One run of a container's log: `<pod logs>/<container>/<restartCount>.log` in the CRI format
 * (cri-log-writer.ts; the layout is `base/container-logs/log-layout.ts`), what `pods/log` and
 * `knet logs` read. Emulated images write through this; a program's output is written by its
 * shim (container-shim.ts), which gets only the path.
 *
 * Runs are kept as the kubelet's container garbage collection keeps dead containers: the
 * current run and the one before it (`--previous`); older runs' files go when a run starts.
 */
import { rmSync } from 'node:fs';
import { loggedRuns, runLogFile } from '../../base/container-logs/log-layout.js';
import type { LogStream } from '../../base/container-logs/cri-log-line.js';
import { CriLogWriter, rotatedFiles } from './cri-log-writer.js';

export interface ContainerLog {
  readonly path: string;
  /** Output as the program wrote it, on stdout unless said otherwise. */
  write(chunk: string | Buffer, stream?: LogStream): void;
  /** A line on stderr prefixed the way Go's standard `log` package does ("2006/01/02 15:04:05 msg"). */
  goLog(msg: string): void;
  close(): Promise<void>;
}

export function openContainerLog(path: string): ContainerLog {
  const writer = new CriLogWriter(path);
  return {
    path,
    write: (chunk, stream = 'stdout') => writer.write(stream, chunk),
    goLog: (msg) => writer.write('stderr', goLogLine(msg)),
    close: () => writer.close(),
  };
}

/** The log of run `run` of the container whose logs are in `containerDir`; runs before `run - 1` are removed. */
export function openRunLog(containerDir: string, run: number): ContainerLog {
  for (const old of loggedRuns(containerDir)) {
    if (old >= run - 1) continue;
    const file = runLogFile(containerDir, old);
    for (const f of [file, ...rotatedFiles(file)]) rmSync(f, { force: true });
  }
  return openContainerLog(runLogFile(containerDir, run));
}

/** A log that drops everything (containers started without a log directory, unit tests). */
export const nullContainerLog: ContainerLog = {
  path: '/dev/null',
  write() {},
  goLog() {},
  close: () => Promise.resolve(),
};

/** A line as Go's standard `log` package prints it: "2006/01/02 15:04:05 msg\n". */
export function goLogLine(msg: string, at = new Date()): string {
  return `${goLogTime(at)} ${msg.endsWith('\n') ? msg : msg + '\n'}`;
}

function goLogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
