/**
 * WebSocket and other Upgrade requests: the request goes to the pod with `Upgrade` and
 * `Connection: upgrade`; on 101 both sockets are spliced together until either side closes
 * or the tunnel idles past proxy-read-timeout (nginx closes idle tunnels after 60 s). A pod
 * that refuses the upgrade has its plain response relayed. Both sockets are always
 * destroyed together, so no tunnel half can leak.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { droppedSynSocket } from '../dataplane/base/netpol/dial-from-pod.js';
import type { UpstreamTry } from './access-log.js';
import type { RequestLike } from './http1-request.js';
import { errorPage, STATUS_TEXT } from './error-pages.js';
import { downstreamHeaders, upstreamHeaders, type ForwardContext } from './forwarded-headers.js';
import type { PassResult } from './proxy-pass.js';
import type { ProxyDecision } from './route.js';
import { tunnel } from '../dataplane/base/net/tunnel.js';

export interface UpgradeEnv {
  sourceAddress?: string;
  /** True when NetworkPolicy denies the controller this endpoint: the connect never completes (upstream-pools.ts). */
  denied?: (address: string, port: number) => boolean;
  /** Headers added to the 101 and any error answer (Server, HSTS). */
  responseHeaders: string[];
  /** Live tunnels, so close() can end them. */
  tunnels: Set<Duplex>;
}

export function upgradePass(req: RequestLike, client: Duplex, head: Buffer, d: ProxyDecision, fwd: ForwardContext, env: UpgradeEnv, done: (r: PassResult) => void): void {
  const tries: UpstreamTry[] = [];
  const maxTries = Math.max(1, Math.min(d.tries, d.endpoints.length));
  let finished = false;
  let upgraded = false;
  let current: http.ClientRequest | undefined;
  const finish = (status: number) => {
    if (finished) return;
    finished = true;
    done({ status, tries });
  };
  env.tunnels.add(client);
  client.once('close', () => {
    env.tunnels.delete(client);
    current?.destroy();
    finish(upgraded ? 101 : 0); // a tunnel is logged when it ends, as nginx does
  });
  const headers = upstreamHeaders(req.rawHeaders, { ...fwd, upgrade: String(req.headers.upgrade ?? 'websocket') });

  const attempt = (index: number) => {
    const ep = d.endpoints[index]!;
    const started = performance.now();
    const t: UpstreamTry = { addr: ep.id, responseTime: 0 };
    tries.push(t);
    const options: https.RequestOptions = {
      host: ep.address,
      port: ep.port,
      method: req.method ?? 'GET',
      path: d.uri,
      headers: headers as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent: false, // an upgraded socket never returns to a pool
      rejectUnauthorized: false,
    };
    if (env.sourceAddress) options.localAddress = env.sourceAddress;
    if (env.denied?.(ep.address, ep.port)) {
      // A dropped SYN: the deadline below answers 504, as nginx's proxy_connect_timeout would.
      delete options.agent;
      options.createConnection = () => droppedSynSocket(ep.address, ep.port);
    }
    const up = d.backendProtocol === 'https' ? https.request(options) : http.request(options);
    current = up;
    let answered = false;
    // Connect plus response-header deadline; the tunnel itself idles out at proxy-read-timeout.
    const timer = setTimeout(() => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })), d.connectTimeoutMs + d.readTimeoutMs);

    up.on('upgrade', (upRes, upSocket, upHead) => {
      answered = true;
      clearTimeout(timer);
      t.status = upRes.statusCode ?? 101;
      t.responseTime = (performance.now() - started) / 1000;
      upSocket.on('error', () => client.destroy());
      if (client.destroyed) {
        upSocket.destroy();
        return;
      }
      const lines = [`HTTP/1.1 101 Switching Protocols`];
      const out = downstreamHeaders(upRes.rawHeaders);
      out.push('Upgrade', String(upRes.headers.upgrade ?? 'websocket'), 'Connection', 'upgrade', ...env.responseHeaders);
      for (let i = 0; i + 1 < out.length; i += 2) lines.push(`${out[i]}: ${out[i + 1]}`);
      client.write(lines.join('\r\n') + '\r\n\r\n');
      if (upHead.length) client.write(upHead);
      if (head.length) upSocket.write(head);
      const idle = d.readTimeoutMs;
      upSocket.setTimeout(idle, () => upSocket.destroy());
      if (typeof (client as Socket).setTimeout === 'function') (client as Socket).setTimeout(idle);
      client.on('timeout', () => client.destroy());
      tunnel(upSocket, client);
      upgraded = true;
    });

    up.on('response', (upRes) => {
      // The pod answered without upgrading: relay its response as is.
      answered = true;
      clearTimeout(timer);
      const status = upRes.statusCode ?? 502;
      t.status = status;
      const out = downstreamHeaders(upRes.rawHeaders);
      out.push(...env.responseHeaders, 'Connection', 'close');
      let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? upRes.statusMessage ?? ''}\r\n`;
      for (let i = 0; i + 1 < out.length; i += 2) text += `${out[i]}: ${out[i + 1]}\r\n`;
      client.write(text + '\r\n');
      upRes.on('data', (c: Buffer) => client.write(c));
      upRes.on('end', () => {
        t.responseTime = (performance.now() - started) / 1000;
        client.end();
        finish(status);
      });
      upRes.on('error', () => client.destroy());
    });

    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      t.responseTime = (performance.now() - started) / 1000;
      if (finished || client.destroyed) return;
      if (answered) {
        client.destroy();
        return;
      }
      if (index + 1 < maxTries) {
        attempt(index + 1);
        return;
      }
      const status = err.code === 'ETIMEDOUT' ? 504 : 502;
      writeError(client, status, env.responseHeaders);
      finish(status);
    });
    up.end();
  };
  attempt(0);
}

/** A local answer on a socket that has not been handed to an HTTP response object. */
export function writeError(socket: Duplex, status: number, extraHeaders: string[] = []): void {
  if (socket.destroyed) return;
  const body = errorPage(status);
  let text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ''}\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n`;
  for (let i = 0; i + 1 < extraHeaders.length; i += 2) text += `${extraHeaders[i]}: ${extraHeaders[i + 1]}\r\n`;
  socket.end(Buffer.concat([Buffer.from(text + '\r\n'), body]));
}
