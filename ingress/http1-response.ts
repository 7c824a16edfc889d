/**
 * A response written by http1-server.ts: what the ingress uses of node:http's ServerResponse
 * (writeHead with a flat header list, write with back-pressure, end, 'drain', 'close'),
 * framed the way ServerResponse frames it:
 *  - the head waits for the first write or end, so `end(body)` sends head and body in one
 *    write, with a Content-Length when the caller gave none;
 *  - without a length, HTTP/1.1 clients get chunked encoding; HTTP/1.0 clients get the body
 *    until the connection closes;
 *  - no body for HEAD, 1xx, 204 and 304;
 *  - `Date` and `Connection` (keep-alive, or close when this is the connection's last
 *    response) are added unless given;
 *  - header names and values go through node:http's validateHeaderName / validateHeaderValue:
 *    writeHead throws on a name that is not a token or a value with control characters.
 */
import { EventEmitter } from 'node:events';
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';

/** What the response asks of its connection. */
export interface ResponseSink {
  /** Sends bytes; false when the socket is over its high-water mark ('drain' follows). */
  send(bytes: Buffer): boolean;
  /** The response's last byte is handed to the socket; `close` = end the connection after it. */
  finished(res: Http1Response, close: boolean): void;
  /** Drops the connection (res.destroy()). */
  destroy(): void;
  /** Whether a write is still queued (its bytes not yet taken by the kernel). */
  holds(): boolean;
}

/** What proxy-pass.ts and local-response.ts need of a response, from either server. */
export interface ResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'drain', listener: () => void): unknown;
  destroy(): unknown;
  /** Whether bytes written may still be read from their memory (queued, not yet sent). */
  holds?(): boolean;
}

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class Http1Response extends EventEmitter implements ResponseLike {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  /** Set when the client will get no more responses on this connection. */
  last: boolean;
  private head = '';
  private headFlushed = false;
  private hasLength = false;
  private chunked = false;
  private noBody: boolean;
  /** end() was called. */
  ended = false;
  /** true once write() returned false, until 'drain'. */
  private needDrain = false;
  private connectionGiven = false;
  private teGiven = false;

  constructor(
    private readonly sink: ResponseSink,
    method: string,
    private readonly http11: boolean,
    keepAlive: boolean,
  ) {
    super();
    this.last = !keepAlive;
    this.noBody = method === 'HEAD';
  }

  writeHead(status: number, headers: readonly string[] = []): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    let date = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      validateHeaderName(name);
      validateHeaderValue(name, value);
      head += `${name}: ${value}\r\n`;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') date = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') {
            this.connectionGiven = true;
            if (/(?:^|\W)close(?:$|\W)/i.test(value)) this.last = true;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') this.hasLength = true;
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            this.teGiven = true;
            this.chunked = /(?:^|\W)chunked(?:$|\W)/i.test(value);
          }
          break;
      }
    }
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.noBody = true;
    if (!date) head += `Date: ${httpDate()}\r\n`;
    this.statusCode = status;
    this.headersSent = true;
    this.head = head;
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.ended || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode);
    const ok = this.send(chunk, false);
    if (!ok) this.needDrain = true;
    return ok;
  }

  end(chunk?: Buffer): this {
    if (this.ended) return this;
    if (!this.headersSent) this.writeHead(this.statusCode);
    this.ended = true;
    if (this.destroyed) return this;
    this.send(chunk, true);
    this.sink.finished(this, this.last);
    return this;
  }

  destroy(): this {
    this.sink.destroy();
    return this;
  }

  holds(): boolean {
    return this.sink.holds();
  }

  /** @internal the socket can take more. */
  writable(): void {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.emit('drain');
  }

  /** @internal the response is on the wire (or the connection is gone): 'close', as node:http emits it. */
  closed(destroyed: boolean): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (!destroyed) this.writableFinished = true;
    this.emit('close');
  }

  /** Frames and sends a body piece (the head first, the first time). */
  private send(chunk: Buffer | undefined, last: boolean): boolean {
    const body = this.noBody || !chunk || chunk.length === 0 ? undefined : chunk;
    let head = '';
    if (!this.headFlushed) {
      this.headFlushed = true;
      head = this.head;
      this.head = '';
      if (!this.noBody && !this.hasLength && !this.teGiven) {
        if (last) head += `Content-Length: ${body?.length ?? 0}\r\n`;
        else if (this.http11) {
          head += 'Transfer-Encoding: chunked\r\n';
          this.chunked = true;
        } else this.last = true; // HTTP/1.0 without a length: the body ends with the connection
      }
      if (!this.connectionGiven) head += this.last ? 'Connection: close\r\n' : 'Connection: keep-alive\r\n';
      head += '\r\n';
    }
    const chunked = this.chunked && !this.noBody;
    const parts: Buffer[] = [];
    if (head) parts.push(Buffer.from(head, 'latin1'));
    if (body) {
      if (chunked) parts.push(Buffer.from(`${body.length.toString(16)}\r\n`, 'latin1'), body, CRLF);
      else parts.push(body);
    }
    if (last && chunked) parts.push(LAST_CHUNK);
    if (parts.length === 0) return true;
    if (parts.length === 1) return this.sink.send(parts[0]!);
    // One write for small pieces; a large body is not copied just to join it to its framing.
    if ((body?.length ?? 0) <= 32 * 1024) return this.sink.send(Buffer.concat(parts));
    let ok = true;
    for (const p of parts) ok = this.sink.send(p);
    return ok;
  }
}

let dateSecond = -1;
let dateText = '';

/** The IMF-fixdate of now, computed once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
