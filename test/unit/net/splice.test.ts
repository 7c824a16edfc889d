/**
 * endpointReader lends its read buffer to the client's write queue: a chunk the kernel did not
 * take at once must not be overwritten by the next read.
 */
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { endpointReader, type ByteTally } from '../../../dataplane/base/net/splice.js';

/**
 * A client whose writes either drain at once or stay queued (holding the chunk, as net does).
 * It has no native handle, so the writer takes the public path.
 */
function fakeClient(queueWrites: () => boolean) {
  const queued: Buffer[] = [];
  const client = {
    writableLength: 0,
    on: () => client,
    write(chunk: Buffer): boolean {
      if (!queueWrites()) return true;
      queued.push(chunk);
      client.writableLength += chunk.length;
      return client.writableLength < 16 * 1024;
    },
  };
  return { client: client as unknown as net.Socket, queued };
}

const tally = (): ByteTally => ({ bytesIn: 0, bytesOut: 0 });

/** What net does with onread: read into buffer(), call back, ask buffer() for the next read. */
function read(reader: net.OnReadOpts, current: Uint8Array, text: string): { result: boolean; next: Uint8Array } {
  const n = Buffer.from(current.buffer, current.byteOffset, current.byteLength).write(text);
  const result = reader.callback(n, current) !== false;
  const next = typeof reader.buffer === 'function' ? reader.buffer() : reader.buffer;
  return { result, next };
}

describe('endpointReader', () => {
  it('reuses its buffer while every write completes at once', () => {
    const { client } = fakeClient(() => false);
    const t = tally();
    const reader = endpointReader(client, t);
    const first = (reader.buffer as () => Uint8Array)();
    const a = read(reader, first, 'one');
    const b = read(reader, a.next, 'two');
    expect(a.next).toBe(first);
    expect(b.next).toBe(first);
    expect(t.bytesOut).toBe(6);
  });

  it('gives the next read a fresh buffer once a chunk stays queued, so the queued bytes survive', () => {
    let queue = true;
    const { client, queued } = fakeClient(() => queue);
    const reader = endpointReader(client, tally());
    const first = (reader.buffer as () => Uint8Array)();
    const a = read(reader, first, 'queued');
    expect(a.result).toBe(true); // below the high-water mark: net keeps reading
    expect(a.next).not.toBe(first);
    queue = false;
    read(reader, a.next, 'XXXXXX');
    expect(queued.map((q) => q.toString())).toEqual(['queued']);
  });

  it('a closed socket’s buffer serves the next connection, unless a queued write still holds it', () => {
    const drained = fakeClient(() => false);
    const a = endpointReader(drained.client, tally());
    const bufA = (a.buffer as () => Uint8Array)();
    a.release();
    const b = endpointReader(drained.client, tally());
    expect((b.buffer as () => Uint8Array)()).toBe(bufA);

    const stuck = fakeClient(() => true);
    const c = endpointReader(stuck.client, tally());
    const bufC = (c.buffer as () => Uint8Array)();
    read(c, bufC, 'still queued');
    c.release();
    const d = endpointReader(drained.client, tally());
    expect((d.buffer as () => Uint8Array)()).not.toBe(bufC);
    b.release();
    d.release();
  });

  it('asks net to stop reading when the client is over its high-water mark', () => {
    const { client } = fakeClient(() => true);
    const reader = endpointReader(client, tally());
    const big = Buffer.alloc(32 * 1024);
    expect(reader.callback(big.length, big)).toBe(false);
  });
});
