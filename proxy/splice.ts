/**
 * The byte path of a forwarded TCP connection, client ⇄ endpoint, with what a NAT keeps:
 * half-close passes through (each side's FIN ends the other's write side; both sockets are
 * allowHalfOpen), and back-pressure holds (a direction stops reading while the other side's
 * write queue is over its high-water mark, and resumes on 'drain').
 *
 * Not `stream.pipe`, and the endpoint side reads with net's `onread`: per request a
 * kept-alive connection moves one chunk each way, and pipe's listener set plus a Readable push
 * per chunk were a visible share of the proxy's CPU under wrk. Bytes are counted here, in
 * plain numbers, in the same callbacks.
 */
import type net from 'node:net';
import type { ServiceTally } from './metrics.js';

const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Read buffers of closed endpoint sockets, for the next connections: a fresh 64 KiB per
 * connection is external memory V8 counts toward its next GC, and the close-per-request
 * profile spent a visible share in the collector. Bounded, so idle it holds at most 2 MiB.
 */
const spare: Buffer[] = [];
const MAX_SPARE = 32;

export interface EndpointReader extends net.OnReadOpts {
  /** The endpoint socket closed: its buffer may serve another connection unless still lent. */
  release(): void;
}

/**
 * `onread` for the endpoint socket: what the endpoint sends is written to the client straight
 * from a reused buffer. When the kernel does not take a chunk at once, the client's write queue
 * keeps a reference to it, so the buffer is lent and the next read gets a fresh one.
 * Returning false (client over its high-water mark) stops reading until splice resumes it.
 */
export function endpointReader(client: net.Socket, tally: ServiceTally): EndpointReader {
  let buffer = spare.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
  let lent = false;
  return {
    buffer: () => {
      if (lent) {
        buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
        lent = false;
      }
      return buffer;
    },
    callback: (size, buf) => {
      tally.bytesOut += size;
      const below = client.write(buf.subarray(0, size));
      if (client.writableLength > 0) lent = true;
      return below;
    },
    release: () => {
      if (!lent && spare.length < MAX_SPARE) spare.push(buffer);
      lent = true;
    },
  };
}

/**
 * Joins an accepted client to its connected endpoint socket (created with endpointReader):
 * client bytes go up with back-pressure, a FIN from either side ends the other's write side.
 */
export function splice(client: net.Socket, upstream: net.Socket, tally: ServiceTally): void {
  client.on('data', (chunk: Buffer) => {
    tally.bytesIn += chunk.length;
    if (!upstream.write(chunk)) client.pause();
  });
  upstream.on('drain', () => client.resume());
  client.on('drain', () => upstream.resume());
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  // A client held while no endpoint was local was paused to keep its early bytes.
  client.resume();
}
