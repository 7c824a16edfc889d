/**
 * The machine's listening TCP and bound UDP sockets on IPv4 addresses (IPv4-mapped IPv6
 * included), read from /proc/net/{tcp,tcp6,udp,udp6}, and which process holds one
 * (/proc/PID/fd links to "socket:[inode]"). Linux only: elsewhere the lists are empty.
 *
 * /proc/net prints each address as the kernel stores it (network byte order) read as host-order
 * 32-bit words: "0300767F:1F90" is 127.118.0.3:8080 on a little-endian machine.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';

export interface BoundSocket {
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
  inode: string;
}

const TCP_LISTEN = '0A';

/** The IPv4 address of one /proc/net address column ("0100007F" or 32 hex digits for IPv6), if it is one. */
export function parseProcAddress(hex: string, littleEndian = endianness() === 'LE'): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = parseInt(hex.slice(i, i + 8), 16);
    const b = [(word >>> 24) & 255, (word >>> 16) & 255, (word >>> 8) & 255, word & 255];
    bytes.push(...(littleEndian ? b.reverse() : b));
  }
  if (bytes.length === 4) return bytes.join('.');
  // ::ffff:a.b.c.d, an IPv4 address on a dual-stack socket.
  const mapped = bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255;
  return mapped ? bytes.slice(12).join('.') : undefined;
}

/** Listening TCP sockets (state LISTEN) or bound UDP sockets (any port but 0) of one /proc/net table. */
export function parseProcNet(text: string, proto: 'tcp' | 'udp', littleEndian?: boolean): BoundSocket[] {
  const out: BoundSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [addrHex, portHex] = cols[1]!.split(':');
    if (proto === 'tcp' && cols[3] !== TCP_LISTEN) continue;
    const port = parseInt(portHex ?? '', 16);
    const address = parseProcAddress(addrHex ?? '', littleEndian);
    if (!address || !port) continue;
    out.push({ proto, address, port, inode: cols[9]! });
  }
  return out;
}

const TABLES = [['tcp', 'tcp'], ['tcp6', 'tcp'], ['udp', 'udp'], ['udp6', 'udp']] as const;

/**
 * Every IPv4 listener and bound UDP socket on this machine. Read off the event loop: the kernel
 * writes the TCP tables by walking its whole connection hash (about 4 ms of CPU each here).
 */
export async function boundSockets(procNet = '/proc/net'): Promise<BoundSocket[]> {
  const tables = await Promise.all(
    TABLES.map(([file, proto]) =>
      readFile(`${procNet}/${file}`, 'utf8').then(
        (text) => parseProcNet(text, proto),
        // No such table (no IPv6, not Linux).
        () => [],
      ),
    ),
  );
  return tables.flat();
}

/**
 * The process holding a socket, by its inode: pid and command line. Only processes whose fds
 * this user may read are seen (undefined for another user's).
 */
export function socketHolder(inode: string): { pid: number; command: string } | undefined {
  // Inode 0: a socket no process holds any more (the kernel finishing a close).
  if (inode === '0') return undefined;
  const link = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== link) continue;
      } catch {
        continue;
      }
      let command = '';
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      } catch {
        // Gone meanwhile.
      }
      return { pid: Number(pid), command: command.length > 120 ? `${command.slice(0, 117)}...` : command };
    }
  }
  return undefined;
}
