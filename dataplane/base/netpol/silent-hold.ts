/**
 * Denied TCP connections that were accepted already (a userspace listener cannot refuse one
 * peer's SYN: the kernel completes the handshake before accept()), held as a dropped SYN looks
 * from the far end as closely as a socket can: never read, never written, never closed while
 * the client waits — no RST, no FIN, no byte — so the client's own timeout fires. The client's
 * connect() did succeed, which a real drop would not let it: see the README's differences.
 *
 * A held connection is re-checked when a policy changes: one that is now allowed is handed on,
 * as the client's next SYN retransmission would get through on a real cluster. It is closed
 * after `holdMs` (Linux gives up on a SYN after ~127 s) or when more than `max` are held.
 */
import type { Socket } from 'node:net';

export const DEFAULT_HOLD_MS = 130_000;
const DEFAULT_MAX = 10_000;

interface Held {
  socket: Socket;
  timer: NodeJS.Timeout;
  /** True when the connection is allowed now. */
  allowedNow?: () => boolean;
  release?: (socket: Socket) => void;
}

export class SilentHold {
  private readonly held = new Map<Socket, Held>();
  private readonly holdMs: number;
  private readonly max: number;

  constructor(opts: { holdMs?: number; max?: number } = {}) {
    this.holdMs = opts.holdMs ?? DEFAULT_HOLD_MS;
    this.max = opts.max ?? DEFAULT_MAX;
  }

  get size(): number {
    return this.held.size;
  }

  /** Holds a socket accepted paused (`pauseOnConnect`): nothing is read from it, nothing sent. */
  hold(socket: Socket, allowedNow?: () => boolean, release?: (socket: Socket) => void): void {
    socket.pause();
    socket.on('error', () => {});
    if (this.held.size >= this.max) {
      const oldest = this.held.values().next().value as Held;
      this.drop(oldest);
    }
    const entry: Held = { socket, timer: setTimeout(() => this.drop(entry), this.holdMs), allowedNow, release };
    entry.timer.unref?.();
    this.held.set(socket, entry);
    socket.once('close', () => this.forget(entry));
  }

  /** After a policy change: hands on every held connection that is allowed now. */
  recheck(): void {
    for (const entry of [...this.held.values()]) {
      if (!entry.allowedNow?.() || !entry.release) continue;
      this.forget(entry);
      entry.release(entry.socket);
    }
  }

  closeAll(): void {
    for (const entry of [...this.held.values()]) this.drop(entry);
  }

  private drop(entry: Held): void {
    this.forget(entry);
    entry.socket.destroy();
  }

  private forget(entry: Held): void {
    clearTimeout(entry.timer);
    this.held.delete(entry.socket);
  }
}
