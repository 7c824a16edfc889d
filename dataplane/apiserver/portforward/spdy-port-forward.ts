/**
 * Port-forward over SPDY, as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/
 * httpstream.go): kubectl opens two streams per local connection, an error stream and a data
 * stream, with the headers
 *
 *   streamType: error | data     port: 80     requestID: 0, 1, 2, …   (one per connection)
 *
 * A stream with a missing or bad header is reset; a valid one is answered (SYN_REPLY) at once.
 * When both streams of a request are there, the data stream is connected to the pod's port
 * (base/portforward's forwardToPod); a failure is written on the error stream in the kubelet's
 * words, and both streams are closed when the connection is over. A request whose second
 * stream does not come within 30 s (the kubelet's stream creation timeout) is told so on its
 * error stream.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { forwardToPod, type PodForward } from '../../base/portforward/pod-connection.js';
import type { SpdyStream } from './spdy-connection.js';

/** The kubelet's --streaming-connection stream creation timeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

interface StreamPair {
  requestID: string;
  data?: SpdyStream;
  error?: SpdyStream;
  timer?: NodeJS.Timeout;
}

/** Why a stream's headers are refused (the kubelet's httpStreamReceived), or undefined. */
export function invalidStreamHeaders(headers: Record<string, string | undefined>): string | undefined {
  const port = headers.port;
  if (!port) return '"port" header is required';
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = headers.streamtype;
  if (!type) return '"streamType" header is required';
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return undefined;
}

/**
 * The request a stream belongs to. Clients before requestID (kubectl < 1.4) opened error then
 * data with consecutive odd ids; the kubelet pairs those by id, and so does this.
 */
function requestIDOf(stream: SpdyStream): string {
  const id = stream.headers.requestid;
  if (id) return id;
  return String(stream.headers.streamtype === 'error' ? stream.id : stream.id - 2);
}

export interface SpdyPortForward {
  onStream(stream: SpdyStream): void;
  /** Ends every forwarded connection (the pod went away, or the SPDY connection did). */
  closeAll(): void;
}

export function spdyPortForward(pod: Pod, onForwardError: (message: string) => void = () => {}): SpdyPortForward {
  const pairs = new Map<string, StreamPair>();
  const forwards = new Set<PodForward>();

  const printError = (p: StreamPair, message: string) => {
    onForwardError(message);
    if (p.error?.writable) p.error.write(message);
  };

  const run = (p: StreamPair) => {
    const { data, error } = p as Required<StreamPair>;
    const port = Number(data.headers.port);
    const f = forwardToPod(pod, port, data, (message) => printError(p, message));
    forwards.add(f);
    void f.done.then(() => {
      forwards.delete(f);
      // The kubelet closes both streams (a half-close each) when PortForward returns.
      if (!data.writableEnded) data.end();
      if (!error.writableEnded) error.end();
    });
  };

  return {
    onStream(stream) {
      const refused = invalidStreamHeaders(stream.headers);
      if (refused) {
        onForwardError(`portforward stream ${stream.id} refused: ${refused}`);
        stream.abort();
        return;
      }
      stream.respond(200, {});
      const id = requestIDOf(stream);
      let p = pairs.get(id);
      if (!p) {
        const pair: StreamPair = { requestID: id };
        pair.timer = setTimeout(() => {
          pairs.delete(id);
          printError(pair, `(conn=spdy, request=${id}) timed out waiting for streams`);
          pair.error?.end();
          pair.data?.end();
        }, STREAM_CREATION_TIMEOUT_MS);
        pairs.set(id, pair);
        p = pair;
      }
      const type = stream.headers.streamtype as 'data' | 'error';
      if (p[type]) {
        // The kubelet's "error stream already assigned": this stream is not used.
        printError(p, `error processing stream for request ${id}: ${type} stream already assigned`);
        stream.abort();
        return;
      }
      p[type] = stream;
      // The client writes nothing on the error stream (it closes its side at once); read it to its end.
      if (type === 'error') stream.resume();
      if (p.data && p.error) {
        clearTimeout(p.timer);
        pairs.delete(id);
        run(p);
      }
    },
    closeAll() {
      for (const p of pairs.values()) clearTimeout(p.timer);
      pairs.clear();
      for (const f of forwards) f.close();
    },
  };
}
