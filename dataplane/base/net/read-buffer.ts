/**
 * A socket's reused read buffer for net's `onread` contract (the proxy's splice and the
 * ingress's pod connections): one buffer serves read after read while nothing points into it
 * once the read's handler ran; a buffer whose bytes a queued write still holds is lent to that
 * write, and the next read gets another. Buffers of closed sockets serve new ones: a fresh
 * buffer per connection is external memory V8 counts toward its next GC, and profiles of
 * short connections spent a visible share in the collector. Each pool is bounded, so idle it
 * holds at most `size × max` bytes.
 */
export class BufferPool {
  private readonly spare: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly max: number,
  ) {}

  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buf: Buffer): void {
    if (this.spare.length < this.max) this.spare.push(buf);
  }
}

export class ReadBuffer {
  private buffer: Buffer | undefined;
  private lent = false;

  constructor(private readonly pool: BufferPool) {}

  /** The buffer for the next read (net calls this when the handle opens and after each read). */
  next(): Buffer {
    if (!this.buffer || this.lent) {
      this.buffer = this.pool.take();
      this.lent = false;
    }
    return this.buffer;
  }

  /** The last read's bytes are still referenced: the next read needs another buffer. */
  lend(): void {
    this.lent = true;
  }

  /** The socket closed: the buffer goes back to the pool unless lent. */
  release(): void {
    if (this.buffer && !this.lent) this.pool.give(this.buffer);
    this.buffer = undefined;
  }
}
