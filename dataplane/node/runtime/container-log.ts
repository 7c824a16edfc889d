/**
 * One container's log file: what `knet logs POD -c NAME` shows. Plain lines as the program wrote
 * them (no CRI timestamp prefix), appended across restarts so the previous run stays readable.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface ContainerLog {
  readonly path: string;
  /** Raw bytes, as a process writes them. */
  write(chunk: string | Buffer): void;
  /** A line prefixed the way Go's standard `log` package does ("2006/01/02 15:04:05 msg"). */
  goLog(msg: string): void;
  close(): Promise<void>;
}

export function openContainerLog(path: string): ContainerLog {
  mkdirSync(dirname(path), { recursive: true });
  const stream: WriteStream = createWriteStream(path, { flags: 'a' });
  let closed = false;
  // A log that cannot be written must not take the container down with it.
  stream.on('error', () => {});
  return {
    path,
    write(chunk) {
      if (!closed) stream.write(chunk);
    },
    goLog(msg) {
      if (!closed) stream.write(`${goLogTime(new Date())} ${msg.endsWith('\n') ? msg : msg + '\n'}`);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise((resolve) => stream.end(() => resolve()));
    },
  };
}

/** A log that drops everything (containers started without a log directory, unit tests). */
export const nullContainerLog: ContainerLog = {
  path: '/dev/null',
  write() {},
  goLog() {},
  close: () => Promise.resolve(),
};

function goLogTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
