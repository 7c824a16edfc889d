/**
 * Writes a container's stdout and stderr into its run's log file as containerd does (its CRI
 * logger, `internal/cri/io/logger.go`): each stream is cut into lines; every line becomes
 * `<time> <stream> F <text>`; a line longer than 16 KiB (containerd's
 * max_container_log_line_size) goes out in `P` pieces; what is left without a newline when the
 * stream ends is a `P` piece. A trailing "\r" is dropped with the newline, as Go's ReadLine does.
 *
 * Rotation, as the kubelet's container log manager does it (containerLogMaxSize 10Mi,
 * containerLogMaxFiles 5): once the file passes the size, it is renamed to
 * `<file>.<YYYYMMDD-hhmmss>` and a new one is started; the oldest rotated files are removed so
 * that a run keeps at most 5 files. The kubelet checks every 10 s and gzips older rotated files;
 * here the check is at each write and rotated files stay plain text.
 *
 * Lines are written synchronously, those of one event-loop tick together, so that a rotation
 * comes strictly after the old file holds everything (a follower reading it to its end misses
 * nothing). The file is created on the first write (0600, in 0700 directories), so a container that
 * writes nothing has no file — `pods/log` shows nothing for it, and `follow` waits for it.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { encodeLogLine, nowNanos, type LogStream } from '../../base/container-logs/cri-log-line.js';

/** The kubelet's default containerLogMaxSize (10Mi) and containerLogMaxFiles (5). */
export const CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const CONTAINER_LOG_MAX_FILES = 5;
/** containerd's default max_container_log_line_size. */
export const MAX_LOG_LINE = 16 * 1024;

export interface CriLogWriterOptions {
  maxSize?: number;
  maxFiles?: number;
  maxLine?: number;
  /** Nanoseconds since the epoch (tests fix it). */
  now?: () => bigint;
}

export class CriLogWriter {
  private fd: number | undefined;
  private size = 0;
  private closed = false;
  private failed = false;
  private readonly partial: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  private readonly partialLength: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  /** Lines not yet in the file: written together at the end of the current tick. */
  private queue: Buffer[] = [];
  private flushing: NodeJS.Immediate | undefined;
  private readonly maxSize: number;
  private readonly maxFiles: number;
  private readonly maxLine: number;
  private readonly now: () => bigint;

  constructor(
    readonly file: string,
    opts: CriLogWriterOptions = {},
  ) {
    this.maxSize = opts.maxSize ?? CONTAINER_LOG_MAX_SIZE;
    this.maxFiles = Math.max(1, opts.maxFiles ?? CONTAINER_LOG_MAX_FILES);
    this.maxLine = Math.max(1, opts.maxLine ?? MAX_LOG_LINE);
    this.now = opts.now ?? nowNanos;
  }

  /** Output of one stream, in whatever pieces it came. */
  write(stream: LogStream, chunk: string | Buffer): void {
    if (this.closed) return;
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
      this.append(stream, data.subarray(0, nl));
      data = data.subarray(nl + 1);
      let line = this.take(stream);
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      this.emit(stream, false, line);
    }
    if (data.length) this.append(stream, Buffer.from(data));
  }

  /** The streams ended: what is left of a line goes out as a `P` piece; then the file is closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const s of ['stdout', 'stderr'] as const) if (this.partialLength[s] > 0) this.emit(s, true, this.take(s));
    this.closed = true;
    this.flush();
    this.closeFile();
    return Promise.resolve();
  }

  /** Buffers a piece of a line; whatever passes the line limit goes out as `P` pieces. */
  private append(stream: LogStream, piece: Buffer): void {
    if (!piece.length) return;
    this.partial[stream].push(Buffer.from(piece));
    this.partialLength[stream] += piece.length;
    while (this.partialLength[stream] > this.maxLine) {
      const all = this.take(stream);
      this.emit(stream, true, all.subarray(0, this.maxLine));
      const rest = all.subarray(this.maxLine);
      if (rest.length) {
        this.partial[stream].push(rest);
        this.partialLength[stream] = rest.length;
      }
    }
  }

  private take(stream: LogStream): Buffer {
    const all = this.partial[stream].length === 1 ? this.partial[stream][0]! : Buffer.concat(this.partial[stream]);
    this.partial[stream] = [];
    this.partialLength[stream] = 0;
    return all;
  }

  private emit(stream: LogStream, partial: boolean, text: Buffer): void {
    this.queue.push(encodeLogLine(this.now(), stream, partial, text));
    // Lines of one tick go out in one write (a busy emulated server logs a line per request).
    this.flushing ??= setImmediate(() => this.flush());
  }

  /**
   * Writes the queued lines, synchronously: a rotation then happens strictly after the last
   * byte of the old file is in it, so a follower that sees the new file has read all of the old.
   */
  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    const lines = this.queue;
    this.queue = [];
    if (!lines.length || this.failed) return;
    let batch: Buffer[] = [];
    let batchSize = 0;
    for (const line of lines) {
      if (this.size + batchSize > 0 && this.size + batchSize + line.length > this.maxSize) {
        this.writeOut(batch);
        batch = [];
        batchSize = 0;
        this.rotate();
      }
      batch.push(line);
      batchSize += line.length;
    }
    this.writeOut(batch);
  }

  private writeOut(batch: Buffer[]): void {
    if (!batch.length) return;
    try {
      if (this.fd === undefined) this.openFile();
      const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
      for (let off = 0; off < data.length; ) off += writeSync(this.fd!, data, off);
      this.size += data.length;
    } catch {
      // A log that cannot be written must not take the container down with it.
      this.failed = true;
      this.closeFile();
    }
  }

  private openFile(): void {
    // Private to the user, as everything in the cluster's directory (cluster/state-dir.ts).
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Closed already.
    }
    this.fd = undefined;
  }

  /** The kubelet's rotation: rename the full file aside, drop the oldest, start a new one. */
  private rotate(): void {
    this.closeFile();
    try {
      renameSync(this.file, rotatedName(this.file, new Date(Number(this.now() / 1_000_000n))));
      removeOldRotated(this.file, this.maxFiles - 1);
    } catch {
      // Rotation is best effort: the log goes on in the same file.
    }
    this.size = 0;
  }
}

/** `<file>.<YYYYMMDD-hhmmss>` (UTC), the kubelet's rotated name; `-N` added if that second was taken. */
function rotatedName(file: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}-${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  let name = `${file}.${stamp}`;
  for (let i = 1; existsSync(name); i++) name = `${file}.${stamp}-${i}`;
  return name;
}

/** Rotated files of `file`, oldest first. */
export function rotatedFiles(file: string): string[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix) && /^\d{8}-\d{6}(-\d+)?$/.test(n.slice(prefix.length)))
    .sort()
    .map((n) => path.join(dir, n));
}

function removeOldRotated(file: string, keep: number): void {
  const rotated = rotatedFiles(file);
  for (const f of rotated.slice(0, Math.max(0, rotated.length - keep))) rmSync(f, { force: true });
}

