/**
 * The UDP port DNS serves through: the native-handle path (this Node has the internals it
 * expects) and the public-API fallback deliver and send the same datagrams; sends after
 * close are dropped, never thrown.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { openUdp } from '../../../dns/udp-fast-path.js';

const ADDRESS = '127.50.0.40';
const sockets: dgram.Socket[] = [];

async function bound(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => s.bind(0, address, () => resolve()));
  return s;
}

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

describe.each([
  { native: true, label: 'native handle' },
  { native: false, label: 'public API' },
])('openUdp ($label)', ({ native }) => {
  it('echoes every datagram of a burst back to its sender, reversed', async () => {
    const server = await bound(ADDRESS);
    const port = openUdp(
      server,
      {
        onPacket: (msg, rinfo) => port.send(Buffer.from(msg).reverse(), rinfo.port, rinfo.address),
        onError: () => {},
      },
      { native },
    );
    expect(port.fast).toBe(native);
    const client = await bound('127.50.0.1');
    const { port: serverPort } = server.address();
    const count = 2000;
    const window = 50;
    const seen = new Set<number>();
    // Windows of 50 in flight (bursts, but within the kernel's default socket buffers).
    await new Promise<void>((resolve) => {
      const sendWindow = (from: number) => {
        for (let j = from; j < Math.min(count, from + window); j++) client.send(Buffer.from([j >> 8, j & 0xff, 0xaa]), serverPort, ADDRESS);
      };
      client.on('message', (m) => {
        // Sent as [hi, lo, 0xaa], echoed as [0xaa, lo, hi].
        expect(m[0]).toBe(0xaa);
        seen.add((m[2]! << 8) | m[1]!);
        if (seen.size === count) resolve();
        else if (seen.size % window === 0) sendWindow(seen.size);
      });
      sendWindow(0);
    });
    expect([...seen].sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
  });

  it('drops a send after the socket is closed', async () => {
    const server = await bound(ADDRESS);
    const port = openUdp(server, { onPacket: () => {}, onError: () => {} }, { native });
    sockets.splice(sockets.indexOf(server), 1);
    await new Promise<void>((r) => server.close(() => r()));
    expect(() => port.send(Buffer.from([1]), 9, '127.50.0.1')).not.toThrow();
  });
});
