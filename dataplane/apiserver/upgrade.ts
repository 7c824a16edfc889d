/**
 * Requests that ask to upgrade the connection (`Connection: Upgrade`, WebSocket or SPDY/3.1):
 * `pods/portforward` is served here (portforward/); everything else goes to
 * pod-stream-proxy.ts, which passes `pods/exec` and `pods/attach` through to the pod's node and
 * refuses any other upgrade with a Status.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiContext } from './api-request.js';
import { authenticate, type Credentials } from './authn.js';
import { requestInfo } from './request-info.js';
import { failure } from './status.js';
import { rejectUpgrade } from './upgrade-reply.js';
import type { PortForwardRoute } from './portforward/port-forward.js';

type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface UpgradeRoutes {
  credentials: Credentials;
  portForward: PortForwardRoute;
  /** pods/exec and pods/attach, and the refusal of any other upgrade (it authenticates and counts itself). */
  podStreams: UpgradeHandler;
}

/** The shell's `upgrade` option. */
export function upgradeRoutes(ctx: ApiContext, routes: UpgradeRoutes): UpgradeHandler {
  return (req, socket, head) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://apiserver');
    } catch {
      return routes.podStreams(req, socket, head);
    }
    const info = requestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    const portForward = info.type === 'resource' && info.resource?.kind === 'Pod' && info.subresource === 'portforward' && info.namespace !== undefined && info.name !== undefined;
    if (!portForward || (req.method !== 'GET' && req.method !== 'POST')) return routes.podStreams(req, socket, head);
    // A client that goes away mid-handshake must not take the server with it.
    socket.on('error', () => socket.destroy());
    ctx.counters.requests++;
    if (!authenticate(req, routes.credentials)) {
      ctx.counters.errors++;
      return rejectUpgrade(socket, failure('Unauthorized', 'Unauthorized'));
    }
    routes.portForward.handle(req, socket, head, info.namespace!, info.name!, url.searchParams);
  };
}
