/**
 * The node's exec endpoint (the kubelet's streaming server on :10250): a small HTTP server on
 * the node IP that upgrades `GET /exec/{namespace}/{pod}/{container}?command=…&stdin=1&tty=1`
 * and `GET /attach/{namespace}/{pod}/{container}?stdin=1…` to a WebSocket speaking Kubernetes'
 * channel protocol (base/remotecommand/protocol.ts): an exec runs the command with execInPod,
 * an attach joins the container's main process (attach-session.ts). The API server's
 * `pods/exec` and `pods/attach` proxy kubectl's connection here unchanged, as kube-apiserver
 * proxies to the kubelet; `knet exec` and the test API connect directly.
 *
 * Authentication: `Authorization: Bearer <token>`, a random token the node agent makes at
 * start and keeps in the state store (only holders of the store's credentials can read it,
 * and they can do anything to the cluster anyway). Plain HTTP on the node's loopback address:
 * nothing leaves the machine. Refusals before the upgrade, in the kubelet's words (kubectl
 * prints them as `error: unable to upgrade connection: <text>`): 401 without the token, 404
 * `pod does not exist` for a pod not on this node, 500 `container not found ("web")` for a
 * container that is not running, 400 for a bad request or an upgrade that is not WebSocket
 * (SPDY: kubectl falls back to it only after a WebSocket upgrade failed, and then gets this
 * same answer, since the pod and container are checked first).
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../base/log.js';
import type { PodHandle } from '../runtime/container-runner.js';
import { CHANNEL, SERVED_PROTOCOLS, decodeFrame, encodeFrame, exitStatus, failureStatus, supportsClose } from '../../base/remotecommand/protocol.js';
import { parseExecRequest, type ExecRequest } from './stream-request.js';
import { ExecError, execInPod, type ExecSession } from './exec-in-pod.js';
import { attachSession } from './attach-session.js';
import type { AttachTarget } from '../runtime/container-attach.js';

/**
 * kubectl 1.32's WebSocket client reads frames in one goroutine while another creates its
 * streams, and drops a frame that comes before its stream exists ("Unknown stream id 2,
 * discarding message": seen in CI, a shell's "not found" lost from stderr). A kubelet starts a
 * process in a container first, which takes milliseconds; knet's simulated shell answers in
 * microseconds. So what a session writes is held this long after the upgrade, then sent in order.
 */
const CLIENT_STREAMS_MS = 50;

/** Runs socket writes in order, none before `holdMs` after this is made. */
function heldWrites(holdMs: number): (write: () => void) => void {
  let held: Array<() => void> | undefined = [];
  setTimeout(() => {
    const queued = held ?? [];
    held = undefined;
    for (const w of queued) w();
  }, holdMs);
  return (write) => (held ? held.push(write) : write());
}

/** Starts the session an upgraded request asked for, with the client's stdin. */
type Opener = (stdin: PassThrough | undefined) => ExecSession;

export const KUBELET_PORT = 10250;

export interface ExecServerOptions {
  address: string;
  /** 10250; when taken, any free port (the store records which). */
  port?: number;
  token: string;
  pod(namespace: string, name: string): PodHandle | undefined;
  /** The pod's containers, for the default container when none is named. */
  containers(namespace: string, name: string): string[];
  log: Logger;
}

export interface ExecServer {
  port: number;
  close(): Promise<void>;
}

export async function startExecServer(opts: ExecServerOptions): Promise<ExecServer> {
  // The client's order of preference among what is served, as wsstream negotiates.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered].find((p) => SERVED_PROTOCOLS.includes(p)) ?? false });
  const sessions = new Set<ExecSession>();
  const server = http.createServer((_req, res) => {
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Upgrade request required\n');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`);
    };
    socket.on('error', () => {});
    if (!authorized(req.headers.authorization, opts.token)) return refuse(401, 'Unauthorized');
    const parsed = parseExecRequest(new URL(req.url ?? '/', 'http://node'));
    if ('error' in parsed) return refuse(parsed.error.startsWith('not an') ? 404 : 400, parsed.error);
    const handle = opts.pod(parsed.namespace, parsed.pod);
    if (!handle) return refuse(404, 'pod does not exist');
    const container = parsed.container ?? opts.containers(parsed.namespace, parsed.pod)[0] ?? '';
    const target = parsed.kind === 'exec' ? handle.execTarget(container) : handle.attachTarget(container);
    if ('error' in target) return refuse(500, target.error);
    if (parsed.kind === 'exec' && parsed.command.length === 0) return refuse(400, 'you must specify at least one command for the container');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return refuse(400, `knet serves ${parsed.kind} over WebSocket (${SERVED_PROTOCOLS.join(', ')}), not ${req.headers.upgrade}`);
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.some((p) => SERVED_PROTOCOLS.includes(p))) {
      return refuse(400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${SERVED_PROTOCOLS.join(' ')}]`);
    }
    const open: Opener =
      parsed.kind === 'exec' ? (stdin) => execInPod(handle, container, parsed.command, { stdin, tty: parsed.tty }) : (stdin) => attachSession(target as AttachTarget, stdin);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, container, parsed, open));
  });

  function serve(ws: WebSocket, container: string, r: ExecRequest, open: Opener): void {
    const stdin = r.stdin ? new PassThrough() : undefined;
    const later = heldWrites(CLIENT_STREAMS_MS);
    let session: ExecSession;
    try {
      session = open(stdin);
    } catch (err) {
      later(() => {
        ws.send(encodeFrame(ws.protocol, CHANNEL.error, JSON.stringify(failureStatus(err instanceof ExecError ? err.message : String(err)))));
        ws.close(1000);
      });
      return;
    }
    sessions.add(session);
    opts.log.info(r.kind, { pod: `${r.namespace}/${r.pod}`, container, command: r.command.join(' '), tty: r.tty });
    const send = (channel: number) => (c: Buffer | string) =>
      later(() => {
        if (ws.readyState === ws.OPEN) ws.send(encodeFrame(ws.protocol, channel, c));
      });
    const drained = Promise.all(
      [
        [session.stdout, CHANNEL.stdout, r.stdout],
        [session.stderr, CHANNEL.stderr, r.stderr],
      ].map(([stream, channel, wanted]) => {
        const s = stream as NodeJS.ReadableStream;
        if (wanted) s.on('data', send(channel as number));
        else s.resume();
        return new Promise<void>((res) => s.once('end', () => res()));
      }),
    );
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const f = decodeFrame(ws.protocol, data, isBinary);
      if (!f) return;
      // Data after the client closed stdin is dropped (a write after end would be an error).
      if (f.channel === CHANNEL.stdin) {
        if (stdin && !stdin.writableEnded) stdin.write(f.body);
      }
      else if (f.channel === CHANNEL.resize) {
        try {
          const size = JSON.parse(f.body.toString()) as { Width?: number; Height?: number };
          if (size.Width && size.Height) session.resize({ cols: size.Width, rows: size.Height });
        } catch {
          // A malformed resize is ignored, as the kubelet does.
        }
      } else if (supportsClose(ws.protocol) && f.channel === CHANNEL.close && f.body[0] === CHANNEL.stdin) stdin?.end();
    });
    ws.on('close', () => {
      stdin?.end();
      session.kill();
    });
    ws.on('error', () => {});
    void session.exit.then(async (code) => {
      await drained;
      sessions.delete(session);
      later(() => {
        if (ws.readyState !== ws.OPEN) return;
        // An attach that ends reports Success, whatever the main process's exit code (the kubelet's).
        ws.send(encodeFrame(ws.protocol, CHANNEL.error, JSON.stringify(exitStatus(r.kind === 'exec' ? code : 0, r.command))));
        ws.close(1000);
      });
    });
  }

  const port = await listen(server, opts.address, opts.port ?? KUBELET_PORT);
  return {
    port,
    async close() {
      for (const s of sessions) s.kill();
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Listens on address:port, or on any free port when that one is taken. */
function listen(server: http.Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && port !== 0) {
        server.listen({ host: address, port: 0 });
        return;
      }
      reject(err);
    };
    server.on('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
    server.listen({ host: address, port });
  });
}
