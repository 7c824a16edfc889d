/**
 * Binding UDP and TCP on one address and port, with the port-53 fallback of DESIGN.md §1:
 * when the port needs privilege we do not have (EACCES), say so in one line with the fixes
 * and serve on the fallback port of the same address instead. Never a silent failure: any
 * other bind error is thrown with the address in the message.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../dataplane/base/log.js';
import { listenBacklog } from '../dataplane/base/net/listen-backlog.js';

export interface DnsSockets {
  udp: dgram.Socket;
  tcp: net.Server;
  port: number;
}

export type BindFn = (address: string, port: number) => Promise<DnsSockets>;

export const DEFAULT_FALLBACK_PORT = 5353;

export function privilegeFixes(port: number): string {
  return (
    `to serve on port ${port}, run as root (sudo), or allow unprivileged low ports with ` +
    '`sudo sysctl net.ipv4.ip_unprivileged_port_start=0`, or grant node the capability with ' +
    '`sudo setcap cap_net_bind_service=+ep $(which node)`'
  );
}

export async function bindWithFallback(
  address: string,
  port: number,
  fallbackPort: number,
  log: Logger,
  bind: BindFn = bindDnsSockets,
): Promise<DnsSockets> {
  try {
    return await bind(address, port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' && fallbackPort !== port) {
      log.warn(
        `cannot bind ${hostPort(address, port)} (permission denied): serving DNS on ${hostPort(address, fallbackPort)} instead (dig -p ${fallbackPort}); ${privilegeFixes(port)}`,
        { address, port, fallbackPort },
      );
      try {
        return await bind(address, fallbackPort);
      } catch (err2) {
        throw bindError(address, fallbackPort, err2);
      }
    }
    throw bindError(address, port, err);
  }
}

function bindError(address: string, port: number, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const why =
    e.code === 'EADDRINUSE'
      ? 'the port is already in use by another process'
      : e.code === 'EADDRNOTAVAIL'
        ? 'the address is not configured on this machine'
        : e.code === 'EACCES'
          ? `permission denied; ${privilegeFixes(port)}`
          : e.message;
  const out = new Error(`cannot serve DNS on ${hostPort(address, port)}: ${why}`) as NodeJS.ErrnoException;
  if (e.code) out.code = e.code;
  return out;
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Binds UDP then TCP on the same port. Port 0 picks a free UDP port and retries if TCP has
 * that port taken.
 */
export async function bindDnsSockets(address: string, port: number): Promise<DnsSockets> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    const actual = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port: actual, exclusive: true, backlog: listenBacklog() }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: actual };
    } catch (err) {
      await new Promise<void>((r) => udp.close(() => r()));
      if (port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 20) continue;
      throw err;
    }
  }
}
