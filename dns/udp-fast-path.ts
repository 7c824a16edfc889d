/**
 * A UDP socket's datagrams without node:dgram's per-packet JavaScript, when this Node's
 * internals have the expected shape; the public API otherwise.
 *
 * Why: a cached DNS answer costs about 1 µs of our code, but node:dgram spends several more
 * per packet around it. `socket.send(buf, port, ip)` resolves the address through
 * dns.lookup (a process.nextTick even for an IP literal), validates its arguments, builds a
 * buffer list and adds properties to a fresh SendWrap; the 'message' event goes through
 * EventEmitter.emit. Calling the socket's native handle directly skipped about 3-4 µs of
 * user CPU per query in the DNS bench (bare Node server: ≈17 → ≈14 µs per query, with the
 * kernel's ≈6.5 µs in both), which is most of the gap to unbound.
 *
 * What is used (Node 18-22's lib/dgram.js does exactly this): the socket's state object
 * (a symbol-keyed property holding `handle`), the handle's `onmessage(nread, handle, buf,
 * rinfo)` callback, and `handle.send(req, list, count, port, ip, hasCallback)` with a
 * `SendWrap` from the udp_wrap binding, which returns msgLength+1 when sent at once, 0 when
 * queued (the request then keeps the buffers alive until sent) and a negative errno on
 * failure. Reusing the request of sends that completed at once saved another ≈0.5 µs. If any of them is missing, `openUdp` falls back to 'message' and `send()`.
 */
import type dgram from 'node:dgram';
import { nodeBinding, ownSymbol } from '../dataplane/base/net/node-internals.js';

/** One datagram handed to `onPacket`; an error from the receive path (rare) to `onError`. */
export interface UdpHandlers {
  onPacket(msg: Buffer, rinfo: dgram.RemoteInfo): void;
  onError(err: Error): void;
}

export interface UdpPort {
  /** Sends one datagram; errors (socket closed, ENOBUFS) drop it, as a lost datagram. */
  send(out: Buffer, port: number, address: string): void;
  /** True when the native handle is used (for tests and the bench report). */
  readonly fast: boolean;
  /** Why the public API is used, when it is (for the start log). */
  readonly fallback?: string;
}

interface NativeUdpHandle {
  onmessage: (nread: number, handle: unknown, buf: Buffer, rinfo: dgram.RemoteInfo) => void;
  send(req: SendRequest, list: Buffer[], count: number, port: number, address: string, hasCallback: boolean): number;
}
interface SendRequest {
  list?: Buffer[];
}
type SendWrapClass = new () => SendRequest;

const EMPTY = Buffer.alloc(0);

/**
 * Starts delivering the socket's datagrams (it must be bound) and returns its sender.
 * `native: false` forces the public path (tests of the fallback).
 */
export function openUdp(sock: dgram.Socket, handlers: UdpHandlers, opts: { native?: boolean } = {}): UdpPort {
  if (opts.native === false) return publicPath(sock, handlers, 'native: false');
  const state = socketState(sock);
  const SendWrap = sendWrapClass();
  if (!state) return publicPath(sock, handlers, "a dgram socket has no 'state symbol' with a handle");
  if (!SendWrap) return publicPath(sock, handlers, "process.binding('udp_wrap') has no SendWrap");
  if (!isNativeHandle(state.handle)) return publicPath(sock, handlers, 'the UDP handle has no send and onmessage');
  state.handle.onmessage = (nread, _handle, buf, rinfo) => {
    if (nread < 0) handlers.onError(new Error(`recvmsg failed (${nread})`));
    else handlers.onPacket(buf, rinfo);
  };
  // The native side attaches itself to the request object only when the datagram is queued
  // (it could not be written at once); until then one request and one list serve every send.
  let req = new SendWrap();
  const list: Buffer[] = [];
  return {
    fast: true,
    send(out, port, address) {
      // Read each time: close() sets it to null.
      const handle = state.handle;
      if (!isNativeHandle(handle)) return;
      list[0] = out;
      if (handle.send(req, list, 1, port, address, false) === 0) {
        // Queued: this request now belongs to the datagram and must hold its buffer until sent.
        req.list = [out];
        req = new SendWrap();
      }
      list[0] = EMPTY;
    },
  };
}

function publicPath(sock: dgram.Socket, handlers: UdpHandlers, fallback: string): UdpPort {
  sock.on('message', handlers.onPacket);
  return {
    fast: false,
    fallback,
    send(out, port, address) {
      try {
        // No per-send callback (it costs on every packet); errors arrive as 'error' events.
        sock.send(out, port, address);
      } catch {
        // An answer completing after close(): dropped.
      }
    },
  };
}

/** The object lib/dgram.js keeps under its `state symbol`, if it has a handle. */
function socketState(sock: dgram.Socket): { handle: unknown } | undefined {
  const sym = ownSymbol(sock, 'state symbol');
  const value: unknown = sym && (sock as unknown as Record<symbol, unknown>)[sym];
  return typeof value === 'object' && value !== null && 'handle' in value ? (value as { handle: unknown }) : undefined;
}

function isNativeHandle(handle: unknown): handle is NativeUdpHandle {
  return typeof handle === 'object' && handle !== null && typeof (handle as NativeUdpHandle).send === 'function' && 'onmessage' in handle;
}

let sendWrap: SendWrapClass | null | undefined;

/** udp_wrap's SendWrap. */
function sendWrapClass(): SendWrapClass | undefined {
  if (sendWrap === undefined) {
    const ctor = nodeBinding('udp_wrap')?.SendWrap;
    sendWrap = typeof ctor === 'function' ? (ctor as SendWrapClass) : null;
  }
  return sendWrap ?? undefined;
}
