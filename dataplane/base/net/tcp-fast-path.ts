/**
 * A spliced TCP socket's writes and reads without net's stream machinery, when this Node's
 * internals have the expected shape; the public API otherwise (as dns/udp-fast-path.ts does
 * for UDP).
 *
 * Why: a kept-alive request through the proxy moves one small chunk each way, and per chunk
 * Node spent more in Writable (write → writeOrBuffer → _write → writeGeneric → a fresh
 * WriteWrap with six properties → afterWriteDispatched → onwrite → afterWrite, in a tick) and
 * in Readable (push → addChunk → emit 'data') than in the read and write system calls.
 *
 * What is used (Node 18-22's lib/internal/stream_base_commons.js and lib/net.js do exactly
 * this):
 * - writes: `handle.writeBuffer(req, buf)` with a `WriteWrap` from the stream_wrap binding. It
 *   tries the write at once; `streamBaseState[kLastWriteWasAsync]` says whether libuv had to
 *   queue (part of) it, and only then does the native side attach itself to `req`, keep
 *   pointing into `buf`, and call `req.oncomplete(status)` when done. So one request serves
 *   every write that completes at once. Only used while the socket's Writable has nothing
 *   queued; libuv keeps its own queue in order, and its shutdown (end()) waits for it.
 * - reads of the accepted socket: what net.connect's `onread` option sets up — the socket's
 *   kBuffer / kBufferCb / kBufferGen symbols and `handle.useUserBuffer(buf)` — so onStreamRead
 *   hands each read to a callback instead of Readable.push. EOF and read errors still go
 *   through the Readable ('end', 'error'), as with `onread`.
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { nodeBinding, ownSymbol } from './node-internals.js';

export interface FastPathOptions {
  /** false forces the public API (tests of the fallback, and a switch should Node change). */
  native?: boolean | undefined;
}

export interface SocketWriter {
  /**
   * Writes one chunk. false: the source should stop reading until `onWritable` runs (the
   * socket is over its high-water mark, or the kernel did not take a direct write at once).
   */
  write(chunk: Uint8Array): boolean;
  /** True while the last chunk written may still be read from its memory (queued, not sent). */
  holds(): boolean;
  /** True when writes go to the native handle (tests). */
  readonly fast: boolean;
}

interface NativeStreamHandle {
  writeBuffer(req: WriteRequest, buf: Uint8Array): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
}
interface WriteRequest {
  oncomplete?: (status: number) => void;
  /** Keeps the chunk alive while libuv still points into it. */
  buffer?: Uint8Array | null;
}
type WriteWrapClass = new () => WriteRequest;

interface StreamWrapBinding {
  WriteWrap: WriteWrapClass;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

/** Writes to `sock`; `onWritable` runs once it can take more after write() returned false. */
export function socketWriter(sock: net.Socket, onWritable: () => void, opts: FastPathOptions = {}): SocketWriter {
  const binding = opts.native === false ? undefined : streamWrap();
  // A TLS socket's handle (TLSWrap) takes one write at a time and keeps it until encrypted
  // and flushed, so a direct write beside the Writable's would collide: public API only.
  if (!binding || !isNativeHandle(handleOf(sock)) || (sock as { encrypted?: boolean }).encrypted === true) {
    sock.on('drain', onWritable);
    return { write: (chunk) => sock.write(chunk), holds: () => sock.writableLength > 0, fast: false };
  }
  const { WriteWrap, streamBaseState, kLastWriteWasAsync } = binding;
  /** The direct write libuv is still sending; while set, every write goes through the Writable. */
  let pending: WriteRequest | null = null;
  /** write() returned false and onWritable has not run since. */
  let stalled = false;
  const resume = (): void => {
    if (!stalled || pending !== null || sock.writableNeedDrain) return;
    stalled = false;
    onWritable();
  };
  const completed = (status: number): void => {
    if (pending) pending.buffer = null;
    pending = null;
    if (status < 0) {
      // What Node's onWriteComplete does when no callback was given.
      if (!sock.destroyed) sock.destroy(errnoError(status));
      return;
    }
    resume();
  };
  const newRequest = (): WriteRequest => {
    const r = new WriteWrap();
    r.oncomplete = completed;
    r.buffer = null;
    return r;
  };
  let req = newRequest();
  sock.on('drain', resume);
  return {
    fast: true,
    holds: () => pending !== null || sock.writableLength > 0,
    write(chunk) {
      const handle = handleOf(sock);
      if (pending === null && handle !== null && sock.writableLength === 0 && sock.writable && !sock.connecting) {
        const err = (handle as NativeStreamHandle).writeBuffer(req, chunk);
        if (err !== 0) {
          // Node reports a failed write the same way: the socket is destroyed with it.
          sock.destroy(errnoError(err));
          return false;
        }
        if (streamBaseState[kLastWriteWasAsync] === 0) return true;
        req.buffer = chunk;
        pending = req;
        req = newRequest();
        // The kernel's buffer is full: stop reading until it has taken this chunk.
        stalled = true;
        return false;
      }
      // Behind a queued write: libuv appends after it, so the order holds.
      const below = sock.write(chunk);
      if (below && pending === null) return true;
      stalled = true;
      return false;
    },
  };
}

/**
 * Makes an accepted socket read into `reader`'s buffers, as net.connect's `onread` option
 * does. Returns false (nothing changed; read 'data' instead) when this Node's internals are
 * not as expected. Bytes already in the socket's Readable buffer stay there for read().
 */
export function readWithBuffer(sock: net.Socket, reader: net.OnReadOpts, opts: FastPathOptions = {}): boolean {
  if (opts.native === false) return false;
  const handle = handleOf(sock);
  const syms = readSymbols(sock);
  if (!syms || !isNativeHandle(handle) || !streamWrap()) return false;
  const own = sock as unknown as Record<symbol, unknown>;
  // Already reading into a user buffer (or an unknown state): leave it alone.
  if (own[syms.kBuffer] !== null || own[syms.kBufferCb] !== null) return false;
  const gen = typeof reader.buffer === 'function' ? reader.buffer : null;
  const first = gen ? gen() : (reader.buffer as Uint8Array);
  own[syms.kBuffer] = first;
  own[syms.kBufferCb] = reader.callback;
  own[syms.kBufferGen] = gen;
  handle.useUserBuffer(first);
  return true;
}

/**
 * Why this Node's sockets cannot take the fast path, or undefined when they can: for the
 * components' start logs (a fallback is slower, never wrong). Checked once on what every
 * socket shares: the stream_wrap binding, the TCP handle's methods and the `onread` symbols
 * of a fresh socket (the per-socket checks above still decide each socket).
 */
export function tcpFastPathUnavailable(): string | undefined {
  if (!streamWrap()) return "process.binding('stream_wrap') has no WriteWrap, streamBaseState and kLastWriteWasAsync";
  const TCP = nodeBinding('tcp_wrap')?.TCP as { prototype?: unknown } | undefined;
  const proto = TCP?.prototype as Partial<NativeStreamHandle> | undefined;
  if (typeof proto?.writeBuffer !== 'function' || typeof proto.useUserBuffer !== 'function' || typeof proto.readStart !== 'function') {
    return 'the TCP handle has no writeBuffer, useUserBuffer and readStart';
  }
  const probe = new net.Socket();
  const found = readSymbols(probe);
  probe.destroy();
  return found ? undefined : "a net.Socket has no kBuffer, kBufferCb and kBufferGen (the `onread` option's state)";
}

function handleOf(sock: net.Socket): unknown {
  return (sock as unknown as { _handle?: unknown })._handle ?? null;
}

function isNativeHandle(handle: unknown): handle is NativeStreamHandle {
  const h = handle as Partial<NativeStreamHandle> | null;
  return typeof h === 'object' && h !== null && typeof h.writeBuffer === 'function' && typeof h.useUserBuffer === 'function' && typeof h.readStart === 'function';
}

function errnoError(status: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(status);
  } catch {
    code = `E${-status}`;
  }
  const err: NodeJS.ErrnoException = new Error(`write ${code}`);
  err.errno = status;
  err.code = code;
  err.syscall = 'write';
  return err;
}

interface ReadSymbols {
  kBuffer: symbol;
  kBufferCb: symbol;
  kBufferGen: symbol;
}

let symbols: ReadSymbols | undefined;

/** The symbols lib/net.js's Socket constructor sets (to null) for the `onread` option. */
function readSymbols(sock: net.Socket): ReadSymbols | undefined {
  if (symbols) return symbols.kBuffer in sock ? symbols : undefined;
  const kBuffer = ownSymbol(sock, 'kBuffer');
  const kBufferCb = ownSymbol(sock, 'kBufferCb');
  const kBufferGen = ownSymbol(sock, 'kBufferGen');
  if (kBuffer && kBufferCb && kBufferGen) symbols = { kBuffer, kBufferCb, kBufferGen };
  return symbols;
}

let binding: StreamWrapBinding | null | undefined;

/** stream_wrap's WriteWrap and shared state. */
function streamWrap(): StreamWrapBinding | undefined {
  if (binding === undefined) {
    binding = null;
    const b = nodeBinding('stream_wrap') as Partial<StreamWrapBinding> | undefined;
    if (b && typeof b.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number') {
      binding = { WriteWrap: b.WriteWrap, streamBaseState: b.streamBaseState, kLastWriteWasAsync: b.kLastWriteWasAsync };
    }
  }
  return binding ?? undefined;
}
