/**
 * Structured logging: one JSON object per line on stderr (or a stream), with the component
 * name, so `knet logs` and log shippers can read every process the same way.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  level?: Level;
  write?: (line: string) => void;
}

export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.KNET_LOG_LEVEL as Level | undefined) ?? 'info')] ?? ORDER.info;
  const write = opts.write ?? writeStderr;
  const componentJson = JSON.stringify(component);
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    // A line without fields (the ingress's access log: one per request) is written out by
    // hand; it is the same text JSON.stringify makes of the object, without building one.
    if (fields === undefined) write(`{"time":"${isoNow()}","level":"${level}","component":${componentJson},"msg":${JSON.stringify(msg)}}`);
    else write(JSON.stringify({ time: isoNow(), level, component, msg, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${component}/${sub}`, opts),
  };
}

/**
 * A line sink that hands the lines of one turn of the event loop to `writeChunk` at once,
 * and whatever is pending synchronously when the process exits. A busy component logs a lot
 * (the ingress writes an access-log line per request), and a write(2) per line cost the
 * ingress ~10 µs of its ~100 µs per request; lines still go out within a loop turn.
 */
export function batchedLines(writeChunk: (chunk: string) => void): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  let exitHooked = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    writeChunk(chunk);
  };
  return (line: string) => {
    pending.push(line + '\n');
    if (scheduled) return;
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', flush);
    }
    scheduled = true;
    setImmediate(flush);
  };
}

let isoMs = -1;
let isoText = '';

/** Date#toISOString of now, computed once per millisecond (busy components log many lines per ms). */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** The default sink: stderr, batched per loop turn. */
const writeStderr = batchedLines((chunk) => process.stderr.write(chunk));

/** A logger that drops everything, for unit tests and embedding. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, code: (value as NodeJS.ErrnoException).code };
  return value;
}
