/**
 * The server side of a SPDY/3.1 connection as kubectl opens one (apimachinery's
 * httpstream/spdy over moby/spdystream), on a raw upgraded socket or inside a WebSocket. The
 * frames, zlib header blocks, stream table, replies, FIN/RST, PING and GOAWAY are
 * spdy-transport's (the SPDY implementation under the `spdy` package). It is written for SPDY
 * carrying HTTP, and spdystream differs from that in two ways, both adapted here:
 *
 *  1. A stream's SYN_STREAM carries only its own headers (`streamtype`, `port`, `requestid`),
 *     no `:method` or `:path`. spdy-transport's parser refuses such a frame ("Missing `:method`
 *     and/or `:path` header") and that kills the connection before the first stream. The
 *     parser made here fills the two pseudo-headers in when a header block lacks them.
 *  2. spdystream has no flow control: it sends neither SETTINGS nor WINDOW_UPDATE (and ignores
 *     ours). spdy-transport keeps to the peer's window, which stays at SPDY's initial 64 KiB,
 *     so every stream would stop sending after 64 KiB. Streams here start with a send window
 *     that does not run out, as spdystream's own side behaves.
 */
import type { Duplex } from 'node:stream';
import transport, { type SpdyConnection } from 'spdy-transport';

/** One stream the client opened: its header block (lowercase names) and its bytes both ways. */
export interface SpdyStream extends Duplex {
  id: number;
  headers: Record<string, string>;
  /** SYN_REPLY: the stream is accepted. */
  respond(status: number, headers: Record<string, string>): void;
  /** RST_STREAM (CANCEL). */
  abort(): void;
}

/** spdy-transport's SPDY protocol with a parser that takes kubectl's header blocks. */
const PROTOCOL = 'spdy-kubernetes';
if (!transport.protocol[PROTOCOL]) {
  const spdy = transport.protocol.spdy!;
  transport.protocol[PROTOCOL] = {
    ...spdy,
    parser: {
      create(options: unknown) {
        const parser = spdy.parser.create(options);
        const parseKVs = parser.parseKVs.bind(parser);
        parser.parseKVs = (buffer, callback) =>
          parseKVs(buffer, (err, headers) => {
            if (headers) {
              headers[':method'] ??= 'POST';
              headers[':path'] ??= '/';
            }
            callback(err, headers);
          });
        return parser;
      },
    },
  };
}

export interface SpdyServer {
  /** Settles when the connection is gone (the client closed it, or the transport broke). */
  closed: Promise<void>;
}

/** Serves SPDY on `socket`; every stream the client opens goes to `onStream`. */
export function serveSpdy(socket: Duplex, onStream: (stream: SpdyStream) => void): SpdyServer {
  const conn: SpdyConnection = new transport.Connection(socket, { protocol: PROTOCOL, isServer: true });
  // Adaptation 2: new streams copy this window's size and limit.
  const send = conn._spdyState.streamWindow.send;
  send.max = Number.MAX_SAFE_INTEGER;
  send.limit = Infinity;
  conn.on('stream', (stream: SpdyStream) => {
    // A stream reset by the client (kubectl resets a data stream when its connection is done) is an error event here.
    stream.on('error', () => {});
    onStream(stream);
  });
  const closed = new Promise<void>((resolve) => {
    conn.once('close', () => resolve());
    socket.once('close', () => resolve());
  });
  // Transport and protocol errors end the connection ('close' follows); they are not the server's to throw.
  conn.on('error', () => socket.destroy());
  return { closed };
}
