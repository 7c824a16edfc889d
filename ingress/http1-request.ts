/**
 * A request read by http1-server.ts: what the ingress uses of node:http's IncomingMessage
 * (method, url, headers, the body as 'data' / 'end' events with pause and resume), without a
 * Readable stream per request. As with a Readable, body bytes are held until a 'data'
 * listener is added (the proxy pass listens once its pod connection is up) or resume() is
 * called; more than HIGH_WATER bytes held stops reading the client's socket.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { headersObject } from './request-headers.js';

/** What the request asks of its connection. */
export interface BodyFlow {
  /** Stop (true) or restart (false) reading the socket for this request's body. */
  holdBody(hold: boolean): void;
}

/** What proxy-pass.ts, route.ts and the access log need of a request, from either server. */
export interface RequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly socket: { readonly remoteAddress?: string | undefined };
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroy(): unknown;
}

const HIGH_WATER = 64 * 1024;

export class Http1Request extends EventEmitter implements RequestLike {
  /** The whole message (body included) has been read. */
  complete = false;
  private cachedHeaders: IncomingHttpHeaders | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private flowing = false;
  private paused = false;
  private dumped = false;
  private holding = false;
  private drainQueued = false;
  private ended = false;

  constructor(
    readonly socket: Socket,
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
    private readonly flow: BodyFlow,
  ) {
    super();
  }

  get httpVersion(): string {
    return `${this.httpVersionMajor}.${this.httpVersionMinor}`;
  }

  get headers(): IncomingHttpHeaders {
    return (this.cachedHeaders ??= headersObject(this.rawHeaders));
  }

  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    super.on(event, listener as (...args: unknown[]) => void);
    if (event === 'data') this.resume();
    return this;
  }

  pause(): this {
    this.paused = true;
    this.setHolding(true);
    return this;
  }

  resume(): this {
    this.flowing = true;
    this.paused = false;
    this.queueDrain();
    return this;
  }

  destroy(): this {
    this.socket.destroy();
    return this;
  }

  /** @internal body bytes from the parser (a copy: safe to keep). */
  pushBody(chunk: Buffer): void {
    if (this.dumped) return;
    if (this.flowing && !this.paused && this.held.length === 0) {
      this.emit('data', chunk);
      return;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes > HIGH_WATER) this.setHolding(true);
  }

  /** @internal the parser read the end of the message. */
  pushEnd(): void {
    this.complete = true;
    if (!this.dumped) this.queueDrain();
  }

  /** @internal the response is done: the rest of the body is read and dropped (node's _dump). */
  dump(): void {
    this.dumped = true;
    this.held = [];
    this.heldBytes = 0;
    this.setHolding(false);
  }

  private setHolding(hold: boolean): void {
    if (hold === this.holding) return;
    this.holding = hold;
    this.flow.holdBody(hold);
  }

  /** Held chunks, then 'end', go out after the current call stack (listeners added together see all). */
  private queueDrain(): void {
    if (this.drainQueued) return;
    this.drainQueued = true;
    queueMicrotask(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.dumped || !this.flowing) return;
    while (!this.paused && this.held.length > 0) {
      const chunk = this.held.shift()!;
      this.heldBytes -= chunk.length;
      this.emit('data', chunk);
    }
    if (this.paused) return;
    this.setHolding(false);
    if (this.complete && !this.ended && this.held.length === 0) {
      this.ended = true;
      this.emit('end');
    }
  }
}
