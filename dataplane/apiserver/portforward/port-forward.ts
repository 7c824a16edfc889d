/**
 * `pods/portforward`, the three ways clients ask for it (kube-apiserver's PortForwardREST with
 * the PortForwardWebsockets gate, in front of the kubelet's streaming server):
 *
 *   WebSocket, subprotocol `SPDY/3.1+portforward.k8s.io`   kubectl ≥ 1.31: SPDY frames inside
 *                                                          binary messages (the tunnel)
 *   `Upgrade: SPDY/3.1`, X-Stream-Protocol-Version        kubectl's fallback, and older kubectl
 *   WebSocket, `v4.channel.k8s.io` and `?ports=`           client libraries (client-node, Python)
 *
 * Before the upgrade the pod must exist (404) and be bound to a node (400), as the apiserver
 * checks. After it, every stream pair or channel pair is one connection into the pod
 * (base/portforward). The session ends when the client goes, or when the pod does (deleted,
 * replaced, finished): kubectl then says "lost connection to pod" and exits.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { forwardLost } from '../../base/portforward/select-pod.js';
import type { ApiContext } from '../api-request.js';
import { failure } from '../status.js';
import { serveSpdy } from './spdy-connection.js';
import { spdyPortForward } from './spdy-port-forward.js';
import { parsePortsQuery, serveWebSocketPortForward, websocketPortForwardProtocol } from './websocket-port-forward.js';
import { acceptSpdyUpgrade, rejectUpgrade } from '../upgrade-reply.js';

/** The port-forward stream protocol (apimachinery portforward.PortForwardProtocolV1Name). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl's WebSocket subprotocol for SPDY tunnelled in WebSocket. */
export const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

const listHeader = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

/** Serves `pods/portforward` for one apiserver: a WebSocket server of its own, without a listener. */
export class PortForwardRoute {
  private readonly wss = new WebSocketServer({
    noServer: true,
    // Chosen before the upgrade (handle()); ws asks again and gets the same answer.
    handleProtocols: (offered) => (offered.has(TUNNEL_PROTOCOL) ? TUNNEL_PROTOCOL : websocketPortForwardProtocol([...offered]) || false),
  });
  /** Open sessions, closed with the apiserver. */
  private readonly sessions = new Set<() => void>();
  /** Tunnel requests, whose subprotocol the 101 names (see tunnel()). */
  private readonly tunnels = new WeakSet<IncomingMessage>();

  constructor(private readonly ctx: ApiContext) {
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      if (this.tunnels.has(req)) headers.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`);
    });
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, name: string, query: URLSearchParams): void {
    const pod = this.ctx.cache.get('Pod', namespace, name) as Pod | undefined;
    if (!pod) return rejectUpgrade(socket, failure('NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    if (!pod.spec?.nodeName) return rejectUpgrade(socket, failure('BadRequest', `pod ${name} does not have a host assigned`));
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const offered = listHeader(req.headers['sec-websocket-protocol']);
      if (offered.includes(TUNNEL_PROTOCOL)) return this.tunnel(req, socket, head, pod);
      const protocol = websocketPortForwardProtocol(offered);
      if (protocol === undefined) return rejectUpgrade(socket, failure('BadRequest', `unable to upgrade websocket connection: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${TUNNEL_PROTOCOL} v4.channel.k8s.io v4.base64.channel.k8s.io]`));
      const ports = parsePortsQuery(query.getAll('ports'));
      if (typeof ports === 'string') return rejectUpgrade(socket, failure('BadRequest', ports));
      this.wss.handleUpgrade(req, socket, head, (ws) => this.session(pod, ws, serveWebSocketPortForward(ws, pod, ports, this.logError(pod)).closeAll));
      return;
    }
    if (upgrade === 'spdy/3.1') return this.spdy(req, socket, head, pod);
    rejectUpgrade(socket, failure('BadRequest', `unable to upgrade: missing upgrade headers in request: ${JSON.stringify(req.headers.upgrade ?? '')}`));
  }

  /**
   * kubectl's first try: SPDY tunnelled in binary WebSocket messages. `SPDY/3.1+portforward.k8s.io`
   * is not an RFC 6455 token (the "/"), and ws refuses a handshake offering it ("Invalid
   * Sec-WebSocket-Protocol header", where gorilla/websocket takes it): ws completes this
   * handshake without the header, and the 101 names the protocol through ws's 'headers' event.
   */
  private tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod): void {
    delete req.headers['sec-websocket-protocol'];
    this.tunnels.add(req);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      this.serveSpdyOn(stream, pod, () => ws.close(1000));
    });
  }

  /** The plain SPDY/3.1 upgrade (httpstream.Handshake, then the 101). */
  private spdy(req: IncomingMessage, socket: Duplex, head: Buffer, pod: Pod): void {
    const offered = listHeader(req.headers['x-stream-protocol-version']);
    if (offered.length && !offered.includes(PORT_FORWARD_PROTOCOL)) {
      return rejectUpgrade(socket, failure('Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${PORT_FORWARD_PROTOCOL}]`));
    }
    acceptSpdyUpgrade(socket, offered.length ? PORT_FORWARD_PROTOCOL : undefined);
    if (head.length) socket.unshift(head);
    this.serveSpdyOn(socket, pod, () => socket.end());
  }

  private serveSpdyOn(transport: Duplex, pod: Pod, closeTransport: () => void): void {
    const forward = spdyPortForward(pod, this.logError(pod));
    const server = serveSpdy(transport, (s) => forward.onStream(s));
    const end = this.session(pod, undefined, () => {
      forward.closeAll();
      closeTransport();
    });
    void server.closed.then(() => {
      forward.closeAll();
      end();
    });
  }

  /**
   * Tracks one session: it ends when its pod is lost (the pod's connections close, then the
   * client's), or when the apiserver closes. Returns the function that forgets it.
   */
  private session(pod: Pod, ws: WebSocket | undefined, close: () => void): () => void {
    const ns = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      stopWatch();
      this.sessions.delete(endNow);
    };
    const endNow = () => {
      if (ended) return;
      end();
      close();
    };
    const stopWatch = this.ctx.cache.watch(
      {
        kind: 'Pod',
        onEvent: (e) => {
          if (e.object.metadata?.namespace !== ns || e.object.metadata?.name !== name) return;
          if (forwardLost(pod, e.type === 'DELETED' ? undefined : (e.object as Pod))) endNow();
        },
        // Events were missed (the store relisted): judge by what the cache holds now.
        onExpired: () => {
          if (forwardLost(pod, this.ctx.cache.get('Pod', ns, name!) as Pod | undefined)) endNow();
        },
      },
      undefined,
    );
    this.sessions.add(endNow);
    ws?.once('close', end);
    // Lost between the upgrade's check and now.
    if (forwardLost(pod, this.ctx.cache.get('Pod', ns, name!) as Pod | undefined)) endNow();
    return end;
  }

  private logError(pod: Pod): (message: string) => void {
    return (message) => this.ctx.log.debug('port-forward', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, message });
  }

  close(): void {
    for (const endNow of [...this.sessions]) endNow();
    this.wss.close();
  }
}
