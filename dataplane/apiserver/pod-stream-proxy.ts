/**
 * `pods/exec` and `pods/attach` with an upgrade (kubectl exec, attach, cp, run -i; client
 * libraries): authenticated and validated here (pod-stream-target.ts), then passed through to
 * the exec endpoint of the pod's node with that node's bearer token, as kube-apiserver's
 * UpgradeAwareHandler passes them to the kubelet: the request goes on with the client's own
 * Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Protocol headers, the node's answer comes back
 * as it is — a 101 with the subprotocol it chose (v5.channel.k8s.io, v4.channel.k8s.io,
 * v4.base64.channel.k8s.io), after which the bytes are relayed both ways untouched, or a refusal
 * in the kubelet's words (`container not found ("web")`) that kubectl prints as `error: unable to
 * upgrade connection: …`.
 *
 * The API server's own refusals are Statuses (kubectl: `Error from server (BadRequest): container
 * x is not valid for pod y`); a node that cannot be reached is a 500 "error dialing backend".
 * kubectl falls back to SPDY only when its WebSocket upgrade fails; the fallback request comes
 * here too and gets the same answer, since the node checks the pod and container before the
 * protocol.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiContext } from './api-request.js';
import { authenticate, type Credentials } from './authn.js';
import { requestInfo } from './request-info.js';
import { POD_STREAMS, podStreamTarget, type PodStreamKind } from './pod-stream-target.js';
import { execEndpointOf, type ExecEndpoint } from '../base/remotecommand/node-endpoint.js';
import { apiError, failure, toApiError } from './status.js';
import { rejectUpgrade as refuse } from './upgrade-reply.js';
import { tunnel } from '../base/net/tunnel.js';

export function podStreamUpgrade(ctx: ApiContext, credentials: Credentials): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => {});
    ctx.counters.requests++;
    void upgrade(ctx, credentials, req, socket, head).catch((err: unknown) => {
      ctx.log.warn('upgrade failed', { path: req.url, error: err as Error });
      refuse(socket, toApiError(err).status);
    });
  };
}

async function upgrade(ctx: ApiContext, credentials: Credentials, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  if (!authenticate(req, credentials)) {
    ctx.counters.errors++;
    return refuse(socket, failure('Unauthorized', 'Unauthorized'));
  }
  let node: ExecEndpoint;
  let path: string;
  try {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://apiserver');
    } catch {
      throw apiError('BadRequest', 'malformed request URL');
    }
    const info = requestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    if (info.type !== 'resource' || info.resource?.kind !== 'Pod' || info.name === undefined || info.namespace === undefined || !POD_STREAMS.has(info.subresource ?? '')) {
      throw apiError('BadRequest', `knet upgrades only pods/exec, pods/attach and pods/portforward connections, not ${url.pathname}`);
    }
    if (req.method !== 'GET' && req.method !== 'POST') throw apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method?.toLowerCase()} pods/${info.subresource})`);
    const target = podStreamTarget(ctx, info.subresource as PodStreamKind, info.namespace, info.name, url.searchParams);
    const endpoint = await execEndpointOf(ctx.store, target.node);
    if (!endpoint) throw apiError('InternalError', `error dialing backend: node "${target.node}" has no exec endpoint (is its node agent running?)`);
    node = endpoint;
    path = target.path;
  } catch (err) {
    const e = toApiError(err);
    ctx.counters.errors++;
    if (e.code >= 500) ctx.log.warn('upgrade refused', { path: req.url, error: e });
    return refuse(socket, e.status);
  }
  proxy(req, socket, head, node, path);
}

/** The upgrade request on to the node; its answer back, a 101 and then raw bytes both ways, or its refusal. */
function proxy(req: IncomingMessage, client: Duplex, clientHead: Buffer, node: ExecEndpoint, path: string): void {
  const headers: http.OutgoingHttpHeaders = { ...req.headers, host: `${node.address}:${node.port}`, authorization: `Bearer ${node.token}` };
  const upstream = http.request({ host: node.address, port: node.port, method: req.method, path, headers, agent: false });
  let answered = false;
  upstream.on('upgrade', (res, nodeSocket, nodeHead) => {
    answered = true;
    client.write(`HTTP/1.1 101 Switching Protocols\r\n${rawHeaders(res)}\r\n`);
    if (nodeHead.length) client.write(nodeHead);
    if (clientHead.length) nodeSocket.write(clientHead);
    tunnel(nodeSocket, client);
  });
  upstream.on('response', (res) => {
    // Not upgraded: the node's answer, echoed as the apiserver echoes the kubelet's.
    answered = true;
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = res.headers['content-type'] ?? 'text/plain; charset=utf-8';
      client.end(`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('latin1')}`, 'latin1');
    });
    res.on('error', () => client.destroy());
  });
  upstream.on('error', (err) => {
    if (!answered) refuse(client, failure('InternalError', `error dialing backend: ${err.message}`));
  });
  client.on('close', () => {
    if (!answered) upstream.destroy();
  });
  upstream.end();
}

function rawHeaders(res: IncomingMessage): string {
  let out = '';
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
  return out;
}
