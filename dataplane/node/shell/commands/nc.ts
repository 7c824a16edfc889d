/**
 * nc (busybox's) inside a pod: `nc [-u] [-v] [-z] [-n] [-w SEC] HOST PORT`.
 *   -z      only connect (TCP) and report; with -v "HOST (IP:PORT) open";
 *   data    stdin is sent, then what the far end sends is printed until it closes (or, with
 *           -w, until it has been silent that long); as the whole statement the replies
 *           stream to the terminal or log as they arrive;
 *   -u      UDP: stdin's lines as datagrams, replies printed until -w seconds of silence
 *           (2 s without -w: a real nc would wait forever).
 * Not supported: -l (listening; a pod that serves runs an image that listens), -e, -p.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Command } from 'just-bash';
import type { JustBash } from '../just-bash-loader.js';
import type { ShellSession } from '../shell-session.js';
import { resolveHost, type PodNetwork } from '../pod-resolver.js';
import { dialFromPod, DialError } from '../dial-from-pod.js';
import { resolverFiles } from './net-files.js';

export interface NcOptions {
  host: string;
  port: number;
  udp: boolean;
  verbose: boolean;
  zero: boolean;
  numeric: boolean;
  waitS?: number;
}

const USAGE = 'BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect\nnc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen\n';

export function parseNcArgs(args: string[]): { ok: true; value: NcOptions } | { ok: false; message: string } {
  const o: Partial<NcOptions> & { udp: boolean; verbose: boolean; zero: boolean; numeric: boolean } = { udp: false, verbose: false, zero: false, numeric: false };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const f = a[j]!;
      if (f === 'u') o.udp = true;
      else if (f === 'v') o.verbose = true;
      else if (f === 'z') o.zero = true;
      else if (f === 'n') o.numeric = true;
      else if (f === 'w') {
        const v = a.slice(j + 1) || args[++i];
        if (!v || !/^\d+$/.test(v)) return { ok: false, message: `nc: invalid number '${v ?? ''}'\n` };
        o.waitS = Number(v);
        break;
      } else if (f === 'l' || f === 'p' || f === 'e' || f === 's') return { ok: false, message: `nc: -${f} is not supported in knet's simulated shell (a pod that serves runs an image that listens)\n` };
      else return { ok: false, message: `nc: invalid option -- '${f}'\n${USAGE}` };
    }
  }
  if (rest.length !== 2) return { ok: false, message: USAGE };
  const port = Number(rest[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, message: `nc: bad port '${rest[1]}'\n` };
  return { ok: true, value: { ...o, host: rest[0]!, port } as NcOptions };
}

export function ncCommand(lib: JustBash, session: ShellSession, network: PodNetwork): Command {
  return lib.defineCommand('nc', async (args, ctx) => {
    const parsed = parseNcArgs(args);
    if (!parsed.ok) return { stdout: '', stderr: parsed.message, exitCode: 1 };
    const o = parsed.value;
    const live = session.liveOutput('nc');
    const res = await resolveHost(network, await resolverFiles(ctx.fs), o.host, ctx.signal);
    if (!res.ok) return { stdout: '', stderr: `nc: bad address '${o.host}'\n`, exitCode: 1 };
    const ip = res.addresses[0]!;
    const input = Buffer.from(lib.latin1FromBytes(ctx.stdin), 'latin1');
    if (o.udp) return udpExchange(network, o, ip, input, live, ctx.signal);
    let sock: Socket;
    try {
      sock = await dialFromPod(network.endpoint, ip, o.port, 'TCP', { timeoutMs: o.waitS !== undefined ? o.waitS * 1000 : undefined, signal: ctx.signal });
    } catch (err) {
      if (!(err instanceof DialError)) throw err;
      if (err.code === 'ETIMEDOUT') return { stdout: '', stderr: 'nc: timeout\n', exitCode: 1 };
      return { stdout: '', stderr: `nc: can't connect to remote host (${ip}): ${err.message}\n`, exitCode: 1 };
    }
    const opened = o.verbose ? `${o.host} (${ip}:${o.port}) open\n` : '';
    if (o.zero) {
      sock.destroy();
      return { stdout: '', stderr: opened, exitCode: 0 };
    }
    const received = await exchange(sock, input, o.waitS, live, ctx.signal);
    return { stdout: received, stderr: opened, exitCode: 0, stdoutKind: 'bytes' as const };
  });
}

/** Sends `input`, then collects what comes back until the far end closes (or -w seconds of silence). */
function exchange(sock: Socket, input: Buffer, waitS: number | undefined, live: ((s: string) => void) | undefined, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let idle: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(idle);
      signal?.removeEventListener('abort', finish);
      sock.destroy();
      resolve(out);
    };
    const arm = () => {
      clearTimeout(idle);
      if (waitS !== undefined) idle = setTimeout(finish, waitS * 1000);
    };
    signal?.addEventListener('abort', finish, { once: true });
    sock.on('data', (c: Buffer) => {
      if (live) live(c.toString('latin1'));
      else out += c.toString('latin1');
      arm();
    });
    sock.on('end', finish);
    sock.on('error', finish);
    sock.on('close', finish);
    if (input.length) sock.write(input);
    arm();
  });
}

async function udpExchange(network: PodNetwork, o: NcOptions, ip: string, input: Buffer, live: ((s: string) => void) | undefined, signal: AbortSignal | undefined) {
  let sock: UdpSocket;
  try {
    sock = await dialFromPod(network.endpoint, ip, o.port, 'UDP');
  } catch (err) {
    return { stdout: '', stderr: `nc: can't connect to remote host (${ip}): ${(err as Error).message}\n`, exitCode: 1 };
  }
  const opened = o.verbose ? `${o.host} (${ip}:${o.port}) open\n` : '';
  if (o.zero) {
    sock.close();
    return { stdout: '', stderr: opened, exitCode: 0 };
  }
  const out = await new Promise<string>((resolve) => {
    let text = '';
    let closed = false;
    let idle: NodeJS.Timeout | undefined;
    // Once: the -w timer and the command's abort (just-bash revokes the signal when the
    // command ends) can both fire, and a second close() throws.
    const finish = () => {
      clearTimeout(idle);
      signal?.removeEventListener('abort', finish);
      if (closed) return;
      closed = true;
      sock.close();
      resolve(text);
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(finish, (o.waitS ?? 2) * 1000);
    };
    signal?.addEventListener('abort', finish, { once: true });
    sock.on('message', (m: Buffer) => {
      if (live) live(m.toString('latin1'));
      else text += m.toString('latin1');
      arm();
    });
    // busybox nc sends what it reads from stdin; one datagram per read (here: per line).
    const lines = input.toString('latin1').split(/(?<=\n)/).filter((l) => l.length);
    for (const l of lines) sock.send(Buffer.from(l, 'latin1'));
    arm();
  });
  return { stdout: out, stderr: opened, exitCode: 0, stdoutKind: 'bytes' as const };
}
