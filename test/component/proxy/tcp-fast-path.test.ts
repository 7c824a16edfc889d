/**
 * The spliced TCP byte path's socket access: the native-handle path (this Node has the
 * internals it expects) and the public-API fallback write and read the same bytes, keep a
 * queued chunk's memory until it is sent, apply back-pressure, and report errors as net does.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readWithBuffer, socketWriter, tcpFastPathUnavailable } from '../../../dataplane/base/net/tcp-fast-path.js';
import { slowReadHash } from './helpers.js';

const ADDRESS = '127.51.0.41';
const open: Array<net.Socket | net.Server> = [];

/** A connected pair: `accepted` is the server side, as the proxy's client sockets are. */
async function pair(): Promise<{ accepted: net.Socket; peer: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true });
  open.push(server);
  await new Promise<void>((r) => server.listen({ host: ADDRESS, port: 0 }, r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const peer = net.connect({ host: ADDRESS, port: (server.address() as net.AddressInfo).port, allowHalfOpen: true });
  await new Promise((r) => peer.once('connect', r));
  const a = await accepted;
  open.push(a, peer);
  a.on('error', () => {});
  peer.on('error', () => {});
  return { accepted: a, peer };
}

const loopTurns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Waits, a turn of the event loop at a time, until `check` holds (a ceiling of 5 s only for a failure). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await loopTurns(1);
  }
}

afterEach(async () => {
  // Sockets first: a server's close() waits for its connections.
  const all = open.splice(0);
  for (const s of all) if (s instanceof net.Socket) s.destroy();
  for (const s of all) if (s instanceof net.Server) await new Promise<void>((r) => s.close(() => r()));
});

describe.each([
  { native: true, label: 'native handle' },
  { native: false, label: 'public API' },
])('tcp fast path ($label)', ({ native }) => {
  it('writes 16 MiB intact to a slow reader from one reused buffer, stopping while the kernel is full', async () => {
    const { accepted, peer } = await pair();
    const total = 16 * 1024 * 1024;
    const sent = createHash('sha256');
    const done = slowReadHash(peer, total);
    let offset = 0;
    let stops = 0;
    let scratch = Buffer.alloc(48 * 1024);
    const writer = socketWriter(accepted, () => pump(), { native });
    expect(writer.fast).toBe(native);
    const pump = (): void => {
      while (offset < total) {
        const n = Math.min(scratch.length - (offset % 13), total - offset);
        // A pattern per chunk, so a chunk overwritten while still queued would show.
        scratch.fill(offset % 251, 0, n);
        const chunk = scratch.subarray(0, n);
        sent.update(chunk);
        offset += n;
        const more = writer.write(chunk);
        if (writer.holds()) scratch = Buffer.alloc(scratch.length);
        if (!more) {
          stops++;
          return;
        }
      }
    };
    pump();
    const got = await done;
    expect(got.received).toBe(total);
    expect(got.sha256).toBe(sent.digest('hex'));
    expect(stops).toBeGreaterThan(0);
  });

  it('a write behind a queued one keeps its order, and onWritable waits for both', async () => {
    const { accepted, peer } = await pair();
    peer.pause();
    let writable = 0;
    const writer = socketWriter(accepted, () => writable++, { native });
    // More than the kernel takes at once while the peer does not read: the first write queues.
    const big = Buffer.alloc(32 * 1024 * 1024, 1);
    expect(writer.write(big)).toBe(false);
    expect(writer.holds()).toBe(true);
    expect(writer.write(Buffer.from('tail'))).toBe(false);
    const got: Buffer[] = [];
    let n = 0;
    const all = new Promise<void>((resolve) =>
      peer.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= big.length + 4) resolve();
      }),
    );
    expect(writable).toBe(0);
    peer.resume();
    await all;
    await new Promise((r) => setImmediate(r));
    const bytes = Buffer.concat(got);
    expect(bytes.subarray(0, big.length).equals(big)).toBe(true);
    expect(bytes.subarray(big.length).toString()).toBe('tail');
    expect(writable).toBe(1);
    expect(writer.holds()).toBe(false);
  });

  it('a write to a peer that reset destroys the socket with the error, as net does', async () => {
    const { accepted, peer } = await pair();
    const errored = new Promise<string | undefined>((r) => accepted.once('error', (e: NodeJS.ErrnoException) => r(e.code)));
    const writer = socketWriter(accepted, () => {}, { native });
    peer.resetAndDestroy();
    await new Promise((r) => peer.once('close', r));
    const chunk = Buffer.alloc(64 * 1024, 7);
    // The first write after an RST may still succeed; a later one fails (EPIPE or ECONNRESET).
    for (let i = 0; i < 50 && !accepted.destroyed; i++) {
      writer.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(['EPIPE', 'ECONNRESET']).toContain(await errored);
  });
});

it('is available on every Node the suite runs on (20, 22, 24): the binding, the TCP handle and the onread symbols are there', () => {
  expect(tcpFastPathUnavailable()).toBeUndefined();
});

describe('readWithBuffer (accepted socket)', () => {
  it('keeps bytes that came first for read(), then hands every read to the callback, then ends', async () => {
    const { accepted, peer } = await pair();
    peer.write('early');
    await until(() => accepted.readableLength === 5, "'early' in the socket's buffer");
    const buf = Buffer.alloc(1024);
    const reads: string[] = [];
    const ok = readWithBuffer(accepted, {
      buffer: () => buf,
      callback: (n, b) => {
        reads.push(Buffer.from(b.buffer, b.byteOffset, n).toString());
        return true;
      },
    });
    expect(ok).toBe(true);
    expect(String(accepted.read())).toBe('early');
    const ended = new Promise((r) => accepted.once('end', r));
    accepted.resume();
    peer.write('late');
    await until(() => reads.join('') === 'late', "'late' through the callback");
    peer.end('last');
    await ended;
    expect(reads.join('')).toBe('latelast');
  });

  it('stops reading while the callback says so, and reads again on resume()', async () => {
    const { accepted, peer } = await pair();
    let calls = 0;
    readWithBuffer(accepted, { buffer: Buffer.alloc(1024), callback: () => (++calls, false) });
    accepted.resume();
    peer.write('a');
    await until(() => calls === 1, "the callback's first call");
    // 'b' is in the socket's receive queue once written (loopback); a reading socket would take
    // it in the next poll phase, which has run two check phases later.
    await new Promise((r) => peer.write('b', r));
    await loopTurns(2);
    expect(calls).toBe(1);
    accepted.resume();
    await until(() => calls === 2, "the callback's second call");
    expect(calls).toBe(2);
  });

  it('is declined with native: false, leaving the socket to its Readable', async () => {
    const { accepted } = await pair();
    expect(readWithBuffer(accepted, { buffer: Buffer.alloc(16), callback: () => true }, { native: false })).toBe(false);
  });
});
