/**
 * The shell shared by emulated images: the listeners a fake program opened on the pod IP and its
 * lifecycle as a process (exit code, SIGTERM hook, SIGKILL = 137). Exiting closes every socket
 * and timer the emulation owns, so a stopped container leaves nothing behind.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { ContainerExit, ContainerProcess, StopSignal } from './container-process.js';
import { describeBindError, SIGNAL_NUMBER } from './container-process.js';
import { listenBacklog } from '../../base/net/listen-backlog.js';
import { admitsDatagram, podListenerGate, type ListenerGate, type PodNetpol } from './pod-ingress.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type UdpHandler = (msg: Buffer, peer: RemoteInfo, reply: (data: string | Buffer) => void) => void;

export class EmulatedProcess implements ContainerProcess {
  readonly exited: Promise<ContainerExit>;
  private resolveExit!: (e: ContainerExit) => void;
  private finished = false;
  private termReceived = false;
  private readonly servers = new Set<Server | NetServer>();
  private readonly sockets = new Set<Socket>();
  private readonly udp = new Set<UdpSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Every connection the pod's listeners accepted, held ones (denied by a policy) included. */
  private readonly accepted = new Set<Socket>();
  /** The pod's listeners admit connections per NetworkPolicy (pod-ingress.ts). */
  readonly gate: ListenerGate;
  /** What the image does on SIGTERM; the default is to exit 0 at once (nginx-like fast shutdown). */
  onTerm: () => void = () => this.exit(0);

  constructor(
    readonly ip: string,
    private readonly netpol?: PodNetpol,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.gate = podListenerGate(ip, netpol, (s) => {
      this.accepted.add(s);
      s.once('close', () => this.accepted.delete(s));
    });
  }

  get running(): boolean {
    return !this.finished;
  }

  get terminating(): boolean {
    return this.termReceived;
  }

  signal(sig: StopSignal): void {
    if (this.finished) return;
    if (sig === 'SIGKILL') return this.exit(128 + SIGNAL_NUMBER.SIGKILL, SIGNAL_NUMBER.SIGKILL);
    if (this.termReceived) return;
    this.termReceived = true;
    this.onTerm();
  }

  /** The program exits: every listener and connection goes away at once. */
  exit(exitCode: number, signal?: number): void {
    if (this.finished) return;
    this.finished = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    for (const s of this.accepted) s.destroy();
    for (const srv of this.servers) srv.close();
    for (const u of this.udp) u.close();
    this.resolveExit(signal === undefined ? { exitCode } : { exitCode, signal });
  }

  /** Closes every accepted connection now (a server's close waits for them, held ones included). */
  destroyConnections(): void {
    for (const s of this.accepted) s.destroy();
  }

  /** A timer that dies with the process. */
  after(ms: number, fn: () => void): void {
    if (this.finished) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Go's http.Server.Shutdown: stop accepting, let in-flight requests finish, up to timeoutMs. */
  shutdownHttp(timeoutMs: number, done: () => void): void {
    let called = false;
    const then = () => {
      if (!called) {
        called = true;
        done();
      }
    };
    for (const srv of this.servers) {
      srv.close();
      if ('closeIdleConnections' in srv) srv.closeIdleConnections();
    }
    const poll = () => {
      if (this.sockets.size === 0) return then();
      for (const srv of this.servers) if ('closeIdleConnections' in srv) srv.closeIdleConnections();
      this.after(10, poll);
    };
    this.after(timeoutMs, then);
    poll();
  }

  /** Listens on ip:port; rejects with an actionable message when the bind fails. */
  listenHttp(port: number, handler: HttpHandler): Promise<Server> {
    const srv = createServer(handler);
    srv.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // Client errors (garbage instead of HTTP) get Go's answer and never crash the container.
    srv.on('clientError', (_err, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
      else socket.destroy();
    });
    return this.bind(srv, port);
  }

  /** A raw TCP listener (serve-hostname --tcp). */
  listenTcp(port: number, onConnection: (s: Socket) => void): Promise<NetServer> {
    const srv = createNetServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      onConnection(s);
    });
    return this.bind(srv, port);
  }

  /**
   * Binds the pod's listener on the pod IP for the image's server `srv` (through the policy
   * gate) and tracks both; fails if the container ended meanwhile. The backlog is the kernel's
   * maximum, as a Go program's (agnhost's) is: Node's 511 turned a burst of half-closed clients
   * into resets (listen-backlog.ts).
   */
  private bind<S extends NetServer>(srv: S, port: number): Promise<S> {
    const listener = this.gate(srv, port);
    return new Promise((resolve, reject) => {
      listener.once('error', (err: NodeJS.ErrnoException) => reject(new Error(describeBindError(err, this.ip, port))));
      listener.listen({ host: this.ip, port, exclusive: true, backlog: listenBacklog() }, () => {
        if (this.finished) {
          listener.close();
          return reject(new Error('container exited while starting'));
        }
        this.servers.add(listener);
        this.servers.add(srv);
        resolve(srv);
      });
    });
  }

  listenUdp(port: number, handler: UdpHandler): Promise<UdpSocket> {
    const sock = createSocket('udp4');
    return new Promise((resolve, reject) => {
      sock.once('error', (err: NodeJS.ErrnoException) => {
        sock.close();
        reject(new Error(describeBindError(err, this.ip, port, 'udp')));
      });
      sock.bind({ address: this.ip, port, exclusive: true }, () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {});
        if (this.finished) {
          sock.close();
          return reject(new Error('container exited while starting'));
        }
        this.udp.add(sock);
        sock.on('message', (msg, peer) => {
          // A datagram a policy denies is dropped unseen.
          if (!admitsDatagram(this.ip, this.netpol, peer.address, port)) return;
          handler(msg, peer, (data) => sock.send(data, peer.port, peer.address));
        });
        resolve(sock);
      });
    });
  }
}

/** Writes a text body the way Go's net/http does for fmt.Fprint responses. */
export function sendText(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...(buf.length > 0 ? { 'Content-Type': 'text/plain; charset=utf-8' } : {}),
    'Content-Length': String(buf.length),
    ...headers,
  });
  res.end(buf);
}

/** Go's http.Error: text/plain, nosniff, message plus newline. */
export function sendError(res: ServerResponse, status: number, msg: string): void {
  sendText(res, status, msg + '\n', { 'X-Content-Type-Options': 'nosniff' });
}

/** Starts an emulation's listeners; a failed bind becomes a crashed container with the reason in its log. */
export async function startListening(proc: EmulatedProcess, log: (line: string) => void, listen: () => Promise<void>): Promise<EmulatedProcess> {
  try {
    await listen();
  } catch (err) {
    log((err as Error).message);
    proc.exit(1);
  }
  return proc;
}
