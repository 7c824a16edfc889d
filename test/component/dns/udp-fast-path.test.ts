/**
 * The UDP port DNS serves through: the native-handle path (this Node has the internals it
 * expects) and the public-API fallback deliver and send the same datagrams; sends after
 * close are dropped, never thrown. The DNS server's start log names the path it took.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { createLogger } from '../../../dataplane/base/log.js';
import { startDns } from '../../../dns/server.js';
import { openUdp } from '../../../dns/udp-fast-path.js';

const ADDRESS = '127.50.0.40';
const sockets: dgram.Socket[] = [];

/** Sends `count` datagrams [hi, lo, 0xaa] in windows of 50 and resolves with the numbers echoed back. */
async function echoRoundTrips(client: dgram.Socket, serverPort: number, count: number): Promise<number[]> {
  const window = 50;
  const seen = new Set<number>();
  await new Promise<void>((resolve) => {
    const sendWindow = (from: number) => {
      for (let j = from; j < Math.min(count, from + window); j++) client.send(Buffer.from([j >> 8, j & 0xff, 0xaa]), serverPort, ADDRESS);
    };
    client.on('message', (m) => {
      // Echoed reversed: [0xaa, lo, hi].
      if (m[0] === 0xaa) seen.add((m[2]! << 8) | m[1]!);
      if (seen.size === count) resolve();
      else if (seen.size % window === 0) sendWindow(seen.size);
    });
    sendWindow(0);
  });
  return [...seen].sort((a, b) => a - b);
}

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
    expect(port.fallback).toBe(native ? undefined : 'native: false');
    const client = await bound('127.50.0.1');
    const count = 2000;
    expect(await echoRoundTrips(client, server.address().port, count)).toEqual([...Array(count).keys()]);
  });

  it('drops a send after the socket is closed', async () => {
    const server = await bound(ADDRESS);
    const port = openUdp(server, { onPacket: () => {}, onError: () => {} }, { native });
    sockets.splice(sockets.indexOf(server), 1);
    await new Promise<void>((r) => server.close(() => r()));
    expect(() => port.send(Buffer.from([1]), 9, '127.50.0.1')).not.toThrow();
  });
});

it('keeps a queued datagram alive until it is sent (every send queued: node --test-udp-no-try-send)', async () => {
  const register = fileURLToPath(new URL('../../bench/dns/register.mjs', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/udp-echo.ts', import.meta.url));
  const child = spawn(process.execPath, ['--test-udp-no-try-send', '--import', register, script, ADDRESS], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString()));
      child.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
    });
    const [port, fast] = line.trim().split(' ');
    expect(fast).toBe('true');
    const client = await bound('127.50.0.1');
    const count = 1000;
    expect(await echoRoundTrips(client, Number(port), count)).toEqual([...Array(count).keys()]);
  } finally {
    child.stdin.end();
    child.kill();
  }
});

it("DNS says in its start log which UDP path it serves through: the native handle on every Node the suite runs on", async () => {
  const lines: Array<{ level: string; msg: string; udpFastPath?: string }> = [];
  const dns = await startDns({
    informers: new MemoryInformerFactory(),
    config: clusterConfig(0),
    log: createLogger('dns', { write: (l) => lines.push(JSON.parse(l) as (typeof lines)[number]) }),
    address: ADDRESS,
    port: 0,
    upstream: null,
  });
  try {
    expect(lines.find((l) => l.msg.startsWith('serving DNS'))?.udpFastPath).toBe('native handle');
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  } finally {
    await dns.close();
  }
});
