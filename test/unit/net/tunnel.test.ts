// tunnel(): the last bytes a side sent before it closed still reach a slow reader on the other.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { tunnel } from '../../../dataplane/base/net/tunnel.js';

/** A side that has sent `chunks` and ended, then closes (as a node's socket does after the exec's last frame). */
function finishedSide(chunks: Buffer[]): Duplex {
  const side = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
  for (const c of chunks) side.push(c);
  side.push(null);
  return side;
}

/** A slow reader: each write waits until released, as a socket write does while the kernel holds no room (its buffer, under the high-water mark, still takes writes). */
function slowSide() {
  const received: Buffer[] = [];
  const waiting: Array<() => void> = [];
  const side = new Duplex({ read() {}, write(c: Buffer, _e, cb) { received.push(c); waiting.push(cb); } });
  const finished = new Promise<string>((resolve) => {
    side.on('finish', () => resolve('finish'));
    side.on('close', () => resolve('close'));
  });
  return { side, received, waiting, finished };
}

describe('tunnel', () => {
  it('writes everything the far side sent before it closed to a reader that is still slow', async () => {
    const chunks = [1, 2, 3, 4, 5].map((n) => Buffer.alloc(1000, n));
    const far = finishedSide(chunks);
    const reader = slowSide();
    tunnel(far, reader.side);
    await once(far, 'end');
    // The far side is gone while four of its chunks still wait to be written to the reader.
    far.destroy();
    await once(far, 'close');
    while (reader.received.length < chunks.length || reader.waiting.length > 0) {
      const release = reader.waiting.shift();
      if (!release) break;
      release();
      await new Promise((r) => setImmediate(r));
    }
    expect(await reader.finished).toBe('finish');
    expect(Buffer.concat(reader.received)).toEqual(Buffer.concat(chunks));
  });

  it('destroys the other side when one is reset', async () => {
    const far = net.createServer((s) => s.resetAndDestroy());
    far.listen(0, '127.0.0.1');
    await once(far, 'listening');
    const middle = net.createServer((client) => tunnel(net.connect((far.address() as net.AddressInfo).port, '127.0.0.1'), client));
    middle.listen(0, '127.0.0.1');
    await once(middle, 'listening');
    try {
      const reader = net.connect((middle.address() as net.AddressInfo).port, '127.0.0.1');
      reader.on('error', () => {});
      await once(reader, 'close');
      expect(reader.bytesRead).toBe(0);
    } finally {
      far.close();
      middle.close();
    }
  });
});
