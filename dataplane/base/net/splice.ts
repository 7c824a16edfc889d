/**
 * The byte path of a forwarded TCP connection, client ⇄ endpoint, with what a NAT keeps:
 * half-close passes through (each side's FIN ends the other's write side; both sockets are
 * allowHalfOpen), and back-pressure holds (a direction stops reading while the other side
 * cannot take more, and resumes when it can).
 *
 * Not `stream.pipe`: per request a kept-alive connection moves one chunk each way, and pipe's
 * listener set, a Readable push and a Writable write per chunk were most of the proxy's CPU
 * under wrk. Both sides read into a reused buffer (the endpoint with net's `onread`, the
 * accepted client the same way through tcp-fast-path.ts) and write with tcp-fast-path.ts's
 * writer; without Node's expected internals, the client is read with 'data' and written
 * with write(). Bytes are counted here, in plain numbers, in the same callbacks.
 *
 * Shared by every userspace NAT of knet: the proxy's Service forwarding (proxy/tcp-forwarder.ts)
 * and the node agent's host ports (dataplane/node/host-port-forwarder.ts), which also open their
 * endpoint connection the same way (`connectUpstream`: from the source address the pod must see).
 */
import net from 'node:net';
import { BufferPool, ReadBuffer } from './read-buffer.js';
import { readWithBuffer, socketWriter, type FastPathOptions, type SocketWriter } from './tcp-fast-path.js';

/** Bytes a forwarded connection moved, counted by its owner's metrics (a plain object, read at scrape time). */
export interface ByteTally {
  /** Client → endpoint. */
  bytesIn: number;
  /** Endpoint → client. */
  bytesOut: number;
}

/** 64 KiB reads; idle, the pool keeps at most 2 MiB. */
const buffers = new BufferPool(64 * 1024, 32);

/** One direction: reads (net's onread contract) and writes each chunk on to `to`. */
export interface Pump extends net.OnReadOpts {
  /** Writes a chunk read some other way ('data', or bytes that arrived before the splice). */
  forward(chunk: Buffer): boolean;
  /** The socket read; resumed when `to` can take more after a write said stop. */
  readFrom(source: net.Socket): void;
  /** The socket reading into this pump's buffer closed: the buffer may serve another connection unless still lent. */
  release(): void;
}

/**
 * What one side sends is written to `to` straight from a reused buffer. When the kernel does
 * not take a chunk at once, the write keeps pointing into it, so the buffer is lent and the
 * next read gets a fresh one. Returning false (`to` cannot take more) stops reading until
 * the writer resumes the source.
 */
function pump(to: net.Socket, count: (bytes: number) => void, opts: FastPathOptions): Pump {
  const reads = new ReadBuffer(buffers);
  let source: net.Socket | undefined;
  let writer: SocketWriter | undefined;
  // Made on first use: an endpoint reader is made per connect attempt, before the connect.
  const out = (): SocketWriter => (writer ??= socketWriter(to, () => source?.resume(), opts));
  return {
    buffer: () => reads.next(),
    callback: (size, buf) => {
      count(size);
      const w = writer ?? out();
      const more = w.write(buf.subarray(0, size));
      if (w.holds()) reads.lend();
      return more;
    },
    forward: (chunk) => {
      count(chunk.length);
      return out().write(chunk);
    },
    readFrom: (s) => {
      source = s;
    },
    release: () => reads.release(),
  };
}

/** `onread` for the endpoint socket: what the endpoint sends goes to the client. */
export function endpointReader(client: net.Socket, tally: ByteTally, opts: FastPathOptions = {}): Pump {
  return pump(
    client,
    (n) => {
      tally.bytesOut += n;
    },
    opts,
  );
}

/**
 * Joins an accepted client to its connected endpoint socket (read by `down`, its
 * endpointReader): client bytes go up with back-pressure, a FIN from either side ends the
 * other's write side.
 */
export function splice(client: net.Socket, upstream: net.Socket, tally: ByteTally, down: Pump, opts: FastPathOptions = {}): void {
  down.readFrom(upstream);
  const up = pump(
    upstream,
    (n) => {
      tally.bytesIn += n;
    },
    opts,
  );
  up.readFrom(client);
  // A client that shut down its write side without sending a byte has had its 'end' already
  // (net emits it at once when nothing is buffered), while we were connecting: pass it on now.
  if (client.readableEnded) upstream.end();
  else client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  let more = true;
  if (readWithBuffer(client, up, opts)) {
    client.once('close', up.release);
    // Bytes that came before the splice (the first request, those kept while held) wait in
    // the Readable's buffer; nothing is pushed there any more.
    for (let chunk = client.read() as Buffer | null; chunk !== null; chunk = client.read() as Buffer | null) {
      more = up.forward(chunk) && more;
    }
  } else {
    client.on('data', (chunk: Buffer) => {
      if (!up.forward(chunk)) client.pause();
    });
  }
  // A client held while no endpoint was local was paused to keep its early bytes.
  if (more) client.resume();
  else client.pause();
}

/**
 * Opens the endpoint side of a forwarded connection, read by `down` (its endpointReader). The
 * local address is the source address the endpoint sees — the SNAT decision of the rules it
 * stands for: all of 127.0.0.0/8 is local, so binding the client's own address works, and the
 * pod sees the client as it would behind a DNAT that keeps the source. Half-open as splice
 * needs; Nagle off, as the kernel's forwarding adds no delay.
 */
export function connectUpstream(target: { host: string; port: number }, localAddress: string, down: Pump): net.Socket {
  const upstream = net.connect({ host: target.host, port: target.port, localAddress, allowHalfOpen: true, noDelay: true, onread: down });
  upstream.once('close', down.release);
  return upstream;
}
