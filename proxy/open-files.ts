/**
 * The proxy process's file descriptors: how many are open and the limit (Linux /proc; undefined
 * elsewhere). Each forwarded TCP connection holds two. When none is left, libuv accepts each
 * pending connection and closes it at once (its EMFILE "trick") without telling Node, so those
 * clients are dropped with nothing in the proxy's log: the gauges (process_open_fds and
 * process_max_fds, the names Prometheus's process collector and kube-proxy use) and a warning
 * as the limit comes near are what a user has to see it coming.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Open descriptors of this process, or undefined without /proc. */
export function openFileCount(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/** The soft RLIMIT_NOFILE of this process (Node raises it to the hard limit at start), or undefined. */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return line === undefined || line === 'unlimited' ? undefined : Number(line);
  } catch {
    return undefined;
  }
}

/**
 * Warns once when the forwarded connections come within 10 % of what the descriptor limit
 * allows (two per connection, minus what the process holds besides), and again only after
 * they have fallen below half of it.
 */
export class OpenFilesWatch {
  private readonly near: number;
  private readonly rearm: number;
  private warned = false;

  constructor(
    private readonly warn: (connections: number, limit: number) => void,
    /** openFileLimit(); undefined: unknown, never warns. */
    private readonly limit: number | undefined,
    reserve = 256,
  ) {
    const budget = this.limit === undefined ? Infinity : Math.max(1, Math.floor((this.limit - reserve) / 2));
    this.near = Math.floor(budget * 0.9);
    this.rearm = Math.floor(budget / 2);
  }

  /** Called per accepted connection with the number now open: one comparison. */
  check(connections: number): void {
    if (this.warned) {
      if (connections < this.rearm) this.warned = false;
      return;
    }
    if (connections < this.near) return;
    this.warned = true;
    this.warn(connections, this.limit ?? 0);
  }
}
