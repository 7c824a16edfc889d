/**
 * Reads one run's CRI log file the way the kubelet's ReadLogs does (kubelet
 * `pkg/kubelet/kuberuntime/logs/logs.go`), for `pods/log` and `knet logs` alike:
 *   - `tailLines`: start at the last N lines of the file (a line the runtime cut counts as one
 *     per piece; an unterminated last line does not count), and without `follow` stop after N;
 *   - `since`: skip lines written before it;
 *   - `timestamps`: prefix each line (each piece) with its time, nine fraction digits;
 *   - `limitBytes`: stop once that many bytes went out, cutting the last line;
 *   - `follow`: at the end of the file wait for more (a change to the file, or 1 s), until the
 *     run has ended and everything it wrote has been read. A file renamed away (rotated) is
 *     read to its end, then the new file at the same path is followed.
 * Only the current file of a run is read, as the kubelet does: lines in rotated files
 * (`N.log.<time>`) are not shown.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { formatLogTime, parseLogLine } from './cri-log-line.js';

export interface ReadLogOptions {
  tailLines?: number;
  limitBytes?: number;
  /** Nanoseconds since the epoch. */
  since?: bigint;
  timestamps: boolean;
}

export interface FollowControl {
  /** Whether the run still runs; once not, the rest of the file is read and reading ends. */
  running(): boolean | Promise<boolean>;
  /** Ends following at once (the client went away). */
  signal?: AbortSignal;
  /** Aborted when the caller knows the run has ended: the rest of the file is read without waiting for the next look. */
  runEnded?: AbortSignal;
  /** How long to wait for a change before looking again (the kubelet's logForceCheckPeriod, 1 s). */
  checkMs?: number;
}

const BLOCK = 64 * 1024;

/** Writes the log to `write` as the kubelet streams it; resolves when done (or, following, when the run ended). */
export async function readContainerLog(file: string, opts: ReadLogOptions, write: (chunk: Buffer) => void, follow?: FollowControl): Promise<void> {
  const opened = await openOrWait(file, follow);
  if (!opened) return;
  let fh = opened.fh;
  const out = new LineWriter(opts, write);
  let watcher: Watcher | undefined;
  try {
    // A file that appeared while we waited for it holds only new lines: all of them are read.
    let pos = opts.tailLines !== undefined && opts.tailLines >= 0 && !opened.waited ? await tailStart(fh, opts.tailLines) : 0;
    const limited = opts.tailLines !== undefined && opts.tailLines >= 0 && !follow;
    let left = limited ? opts.tailLines! : Infinity;
    let pending = Buffer.alloc(0);
    let stillRunning = true;
    const buf = Buffer.alloc(BLOCK);
    for (;;) {
      if (left <= 0 || out.full) return;
      const { bytesRead } = await fh.read(buf, 0, BLOCK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        const data = pending.length ? Buffer.concat([pending, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
        let start = 0;
        for (let nl = data.indexOf(0x0a); nl >= 0 && left > 0 && !out.full; nl = data.indexOf(0x0a, start)) {
          out.line(data.subarray(start, nl + 1));
          left--;
          start = nl + 1;
        }
        pending = data.subarray(start);
        continue;
      }
      if (!follow) {
        // An unterminated last line is still shown (the kubelet reads it as the last one).
        if (pending.length && left > 0) out.line(pending);
        return;
      }
      if (!stillRunning || follow.signal?.aborted) return;
      // The file was rotated: this one is read to its end; go on with the new one.
      const next = await reopenIfRotated(file, fh);
      if (next) {
        await fh.close();
        fh = next;
        pos = 0;
        pending = Buffer.alloc(0);
        watcher?.close();
        watcher = undefined;
        continue;
      }
      if (follow.runEnded?.aborted || !(await follow.running())) {
        // Read what was written before it ended, then stop.
        stillRunning = false;
        continue;
      }
      watcher ??= new Watcher(file);
      await watcher.next(follow.checkMs ?? 1000, follow.signal, follow.runEnded);
    }
  } finally {
    watcher?.close();
    await fh.close();
  }
}

/** Formats and filters messages, and counts bytes against limitBytes. */
class LineWriter {
  private remain: number;
  constructor(
    private readonly opts: ReadLogOptions,
    private readonly write: (chunk: Buffer) => void,
  ) {
    this.remain = opts.limitBytes !== undefined && opts.limitBytes >= 0 ? opts.limitBytes : Infinity;
  }

  get full(): boolean {
    return this.remain <= 0;
  }

  line(raw: Buffer): void {
    const msg = parseLogLine(raw);
    // A line that is not CRI is skipped, as the kubelet skips a line it cannot parse.
    if (!msg) return;
    if (this.opts.since !== undefined && msg.time < this.opts.since) return;
    let out = this.opts.timestamps ? Buffer.concat([Buffer.from(`${formatLogTime(msg.time, true)} `), msg.content]) : msg.content;
    if (out.length > this.remain) out = out.subarray(0, this.remain);
    this.remain -= out.length;
    if (out.length) this.write(Buffer.from(out));
  }
}

/** The offset where the last `n` complete lines begin (kubelet `pkg/util/tail` FindTailLineStartIndex). */
async function tailStart(fh: FileHandle, n: number): Promise<number> {
  const { size } = await fh.stat();
  let count = 0;
  let left = size;
  let block = Buffer.alloc(0);
  for (let right = size; right > 0 && count <= n; right = left) {
    left = Math.max(0, right - BLOCK);
    block = Buffer.alloc(right - left);
    await fh.read(block, 0, block.length, left);
    for (let i = block.indexOf(0x0a); i >= 0; i = block.indexOf(0x0a, i + 1)) count++;
  }
  let offset = left;
  for (; count > n; count--) {
    const idx = block.indexOf(0x0a) + 1;
    block = block.subarray(idx);
    offset += idx;
  }
  return offset;
}

/** Opens the file; a following reader waits for it while the run runs (it is created when the run starts). */
async function openOrWait(file: string, follow: FollowControl | undefined): Promise<{ fh: FileHandle; waited: boolean } | undefined> {
  for (let waited = false; ; waited = true) {
    try {
      return { fh: await open(file, 'r'), waited };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!follow || follow.signal?.aborted || follow.runEnded?.aborted || !(await follow.running())) return undefined;
      await delay(follow.checkMs ?? 1000, follow.signal);
    }
  }
}

async function reopenIfRotated(file: string, fh: FileHandle): Promise<FileHandle | undefined> {
  try {
    const [now, mine] = await Promise.all([stat(file), fh.stat()]);
    if (now.ino === mine.ino && now.dev === mine.dev) return undefined;
    return await open(file, 'r');
  } catch {
    // Gone for a moment between the rename and the new file: keep reading the old one.
    return undefined;
  }
}

/** Wakes on a change to the file (fs.watch), after `ms` at the latest, or when aborted. */
class Watcher {
  private readonly w: FSWatcher | undefined;
  private wake: (() => void) | undefined;
  private changed = false;

  constructor(file: string) {
    try {
      this.w = watch(file, () => {
        this.changed = true;
        this.wake?.();
      });
      this.w.on('error', () => this.wake?.());
    } catch {
      // No watch (the file went away): the periodic look still works.
      this.w = undefined;
    }
  }

  next(ms: number, ...signals: Array<AbortSignal | undefined>): Promise<void> {
    if (this.changed || signals.some((s) => s?.aborted)) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const s of signals) s?.removeEventListener('abort', done);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      for (const s of signals) s?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    this.w?.close();
  }
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
