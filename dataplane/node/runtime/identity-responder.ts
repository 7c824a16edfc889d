/**
 * What any image knet does not know (nginx, httpd, your app) runs as: an HTTP responder on each
 * TCP containerPort answering, for any method and path, the pod's identity and the request it
 * saw, as pretty JSON with a trailing newline so it reads well in a terminal; each UDP
 * containerPort echoes datagrams back unchanged. SCTP ports are ignored. A well-known server image
 * (nginx, httpd, …; image-ports.ts) also answers on the port it listens on by itself, unless
 * another container of the pod declares that port. On SIGTERM it closes its listeners and exits
 * 0 at once, like nginx's fast shutdown.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { plainIp } from '../../base/net/ip.js';
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { EmulatedProcess, startListening } from './emulated-process.js';
import { imageDefaultPorts } from './image-ports.js';

export interface IdentityResponse {
  pod: string;
  namespace: string;
  podIP: string;
  node: string;
  container: string;
  image: string;
  /** "GET /path?q HTTP/1.1" */
  request: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The peer as ip:port. */
  client: string;
  /** The local address the request arrived on, as ip:port. */
  server: string;
}

export async function startIdentityResponder(ctx: ContainerContext): Promise<ContainerProcess> {
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  const log = (m: string) => ctx.log.goLog(m);
  return startListening(proc, log, async () => {
    for (const p of [...(ctx.container.ports ?? []), ...implicitPorts(ctx)]) {
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      if (protocol === 'UDP') {
        await proc.listenUdp(p.containerPort, (msg, _peer, reply) => reply(msg));
        log(`knet identity responder: echoing UDP on ${ctx.podIP}:${p.containerPort}`);
      } else if (protocol === 'TCP') {
        await proc.listenHttp(p.containerPort, (req, res) => respond(ctx, req, res));
        log(`knet identity responder: serving HTTP on ${ctx.podIP}:${p.containerPort}`);
      }
    }
  });
}

/** The image's own ports that no container of the pod declares (TCP). */
function implicitPorts(ctx: ContainerContext): Array<{ containerPort: number; protocol: 'TCP' }> {
  const declared = new Set((ctx.pod.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort)));
  return imageDefaultPorts(ctx.container.image).filter((port) => !declared.has(port)).map((containerPort) => ({ containerPort, protocol: 'TCP' }));
}

function respond(ctx: ContainerContext, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const client = `${plainIp(req.socket.remoteAddress)}:${req.socket.remotePort}`;
  const line = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
  ctx.log.write(`${client} "${line}" 200\n`);
  const body: IdentityResponse = {
    pod: ctx.pod.metadata?.name ?? '',
    namespace: ctx.pod.metadata?.namespace ?? 'default',
    podIP: ctx.podIP,
    node: ctx.nodeName,
    container: ctx.container.name,
    image: ctx.container.image ?? '',
    request: line,
    method: req.method ?? '',
    path: req.url ?? '',
    headers: headersOf(req),
    client,
    server: `${plainIp(req.socket.localAddress)}:${req.socket.localPort}`,
  };
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** Header names as the client sent them; repeated headers joined with ", ". */
function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!;
    out[k] = out[k] === undefined ? req.rawHeaders[i + 1]! : `${out[k]}, ${req.rawHeaders[i + 1]}`;
  }
  return out;
}
