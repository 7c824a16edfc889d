/**
 * Reading a pod's HTTP/1.x response off the wire, with no I/O: bytes in, head / body slices /
 * end out. It parses only what a proxy must know — the status, the header list, and where the
 * body ends (RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked when the last
 * transfer coding is chunked; Content-Length; else until the connection closes) — and says
 * whether the connection can carry another request. Body bytes are handed on as slices of
 * the input (chunked framing removed), never copied.
 */

export interface ResponseHead {
  status: number;
  /** Raw [name, value, name, value…], latin1, in the pod's order. */
  rawHeaders: string[];
}

export interface ResponseSink {
  /** The final (non-1xx) head. Interim 1xx responses are skipped. */
  onHead(head: ResponseHead): void;
  /** A body slice; `last` when it completes the response (so the caller can end in one write). */
  onBody(chunk: Buffer, last: boolean): void;
  /** The response is complete (after the last onBody, or with no body at all). */
  onEnd(): void;
}

/** A response that cannot be relayed: 502 before the head was sent, a cut reply after. */
export class UpstreamProtocolError extends Error {
  readonly code = 'KNET_UPSTREAM_PROTOCOL';
}

/** nginx's proxy_buffer_size is 4–8 KiB ("upstream sent too big header"); we allow more. */
const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 4096;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseReader {
  private state = State.Head;
  private pending: Buffer | undefined;
  private remaining = 0;
  /** The connection can carry another request once this response is done. */
  reusable = false;
  /** Bytes of the body (after de-chunking), for `$upstream_response_length`. */
  bodyBytes = 0;
  /** True once any byte of a response (interim ones included) has arrived. */
  started = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly headRequest: boolean,
  ) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Whether the response is delimited by the connection closing (then EOF is its end). */
  get untilClose(): boolean {
    return this.state === State.UntilClose;
  }

  /**
   * The text before `delimiter` (bytes held back from earlier reads first) and the bytes after
   * it; undefined when the delimiter has not come yet (the bytes are kept, up to `max`).
   */
  private takeUntil(buf: Buffer, delimiter: string, max: number, tooLong: string): { text: string; rest: Buffer } | undefined {
    const all = this.pending ? Buffer.concat([this.pending, buf]) : buf;
    const end = all.indexOf(delimiter, 0, 'latin1');
    if (end < 0) {
      if (all.length > max) throw new UpstreamProtocolError(tooLong);
      // Kept across reads: a copy, since the caller's read buffer is reused.
      this.pending = all === buf ? Buffer.from(buf) : all;
      return undefined;
    }
    this.pending = undefined;
    return { text: all.toString('latin1', 0, end), rest: all.subarray(end + delimiter.length) };
  }

  /** Feeds bytes from the socket. Throws UpstreamProtocolError on a malformed response. */
  feed(data: Buffer): void {
    if (data.length) this.started = true;
    let buf = data;
    while (buf.length > 0) {
      switch (this.state) {
        case State.Head: {
          const head = this.takeUntil(buf, '\r\n\r\n', MAX_HEAD, 'upstream sent too big header');
          if (!head) return;
          buf = head.rest;
          this.head(head.text);
          if (this.done) {
            // A response without a body: anything after it belongs to no request.
            if (buf.length) this.reusable = false;
            return;
          }
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length);
          this.remaining -= n;
          this.bodyBytes += n;
          const last = this.remaining === 0;
          if (last) this.state = State.Done;
          if (last && n < buf.length) this.reusable = false;
          this.sink.onBody(n === buf.length ? buf : buf.subarray(0, n), last);
          if (last) this.sink.onEnd();
          return;
        }
        case State.UntilClose:
          this.bodyBytes += buf.length;
          this.sink.onBody(buf, false);
          return;
        case State.ChunkSize:
        case State.ChunkDataEnd:
        case State.Trailers: {
          const line = this.takeUntil(buf, '\r\n', MAX_CHUNK_LINE, 'invalid chunked body');
          if (!line) return;
          buf = line.rest;
          this.chunkLine(line.text);
          if (this.done) {
            if (buf.length) this.reusable = false;
            this.sink.onEnd();
            return;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length);
          this.remaining -= n;
          this.bodyBytes += n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          this.sink.onBody(n === buf.length ? buf : buf.subarray(0, n), false);
          buf = buf.subarray(n);
          break;
        }
        case State.Done:
          // Bytes after a complete response: the pod broke framing; never reuse this connection.
          this.reusable = false;
          return;
      }
    }
  }

  /** The connection closed. Ends a close-delimited body; anything else unfinished is an error. */
  eof(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.sink.onEnd();
      return;
    }
    if (this.state !== State.Done) throw new UpstreamProtocolError('upstream prematurely closed connection');
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    const statusLine = lines[0]!;
    if (!STATUS_LINE.test(statusLine)) throw new UpstreamProtocolError('upstream sent no valid HTTP/1.0 header');
    const status = Number(statusLine.slice(9, 12));
    const http11 = statusLine.charCodeAt(7) === 0x31;
    const rawHeaders: string[] = [];
    let contentLength: number | undefined;
    let chunked = false;
    let transferEncoding = false;
    let close = !http11;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      // Whitespace before the colon or an obs-fold line; other bad name bytes make
      // ServerResponse#writeHead refuse the header, which answers 502 just the same.
      if (colon <= 0 || line.charCodeAt(0) <= 0x20 || line.charCodeAt(colon - 1) <= 0x20) throw new UpstreamProtocolError('upstream sent invalid header');
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push(name, value);
      const lower = name.length === 14 || name.length === 17 || name.length === 10 ? name.toLowerCase() : '';
      if (lower === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) throw new UpstreamProtocolError('upstream sent invalid "Content-Length" header');
        contentLength = Number(value);
      } else if (lower === 'transfer-encoding') {
        transferEncoding = true;
        const codings = value.toLowerCase().split(',');
        chunked = codings[codings.length - 1]!.trim() === 'chunked';
      } else if (lower === 'connection') {
        for (const t of value.toLowerCase().split(',')) {
          const token = t.trim();
          if (token === 'close') close = true;
          else if (token === 'keep-alive' && !http11) close = false;
        }
      }
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: skipped. 101 never belongs on this path.
      if (status === 101) throw new UpstreamProtocolError('upstream switched protocols on a plain request');
      return;
    }
    this.sink.onHead({ status, rawHeaders });
    if (this.headRequest || status === 204 || status === 304) {
      this.reusable = !close;
      this.state = State.Done;
      this.sink.onEnd();
      return;
    }
    if (transferEncoding) {
      // Transfer-Encoding with Content-Length is a smuggling shape: relay, never reuse.
      this.reusable = !close && chunked && contentLength === undefined;
      this.state = chunked ? State.ChunkSize : State.UntilClose;
      return;
    }
    if (contentLength !== undefined) {
      this.reusable = !close;
      this.remaining = contentLength;
      if (contentLength === 0) {
        this.state = State.Done;
        this.sink.onBody(EMPTY, true);
        this.sink.onEnd();
      } else {
        this.state = State.Length;
      }
      return;
    }
    this.reusable = false;
    this.state = State.UntilClose;
  }

  private chunkLine(line: string): void {
    if (this.state === State.ChunkDataEnd) {
      if (line !== '') throw new UpstreamProtocolError('invalid chunked body');
      this.state = State.ChunkSize;
      return;
    }
    if (this.state === State.Trailers) {
      if (line === '') this.state = State.Done; // trailers are not relayed (nginx drops them too)
      return;
    }
    const semi = line.indexOf(';');
    const size = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new UpstreamProtocolError('invalid chunked body');
    const n = parseInt(size, 16);
    if (n === 0) {
      this.state = State.Trailers;
      return;
    }
    this.remaining = n;
    this.state = State.ChunkData;
  }
}

const EMPTY = Buffer.alloc(0);
const STATUS_LINE = /^HTTP\/1\.[01] \d{3}(?:[ \t]|$)/;
