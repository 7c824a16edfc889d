/**
 * Port-forward over WebSocket, the protocol client libraries speak (@kubernetes/client-node,
 * the Python client), as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/
 * websocket.go): one WebSocket per connection, `?ports=80&ports=81` (or `80,81`), and for the
 * i-th port a data channel 2i and an error channel 2i+1. Each message starts with its channel
 * byte (`v4.channel.k8s.io`, or no subprotocol); with `v4.base64.channel.k8s.io` it is a text
 * message, the channel as an ASCII digit and the payload in base64. The server's first message
 * on every channel is the port, 2 bytes little-endian. Every port is connected to the pod at
 * once; when all are over the WebSocket closes.
 */
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { forwardToPod, type PodForward } from '../../base/portforward/pod-connection.js';

export const WEBSOCKET_PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

/**
 * The subprotocol to answer with, as wsstream's handshake picks it: the first the client
 * offers that is served; none offered is the legacy binary framing (''); offers of only
 * others are refused (undefined).
 */
export function websocketPortForwardProtocol(offered: readonly string[]): string | undefined {
  if (!offered.length) return '';
  return offered.find((p) => (WEBSOCKET_PORT_FORWARD_PROTOCOLS as readonly string[]).includes(p));
}

/** The ports of `?ports=` (repeated and/or comma-separated), or why they are refused. */
export function parsePortsQuery(values: readonly string[]): number[] | string {
  if (!values.length) return 'query parameter "ports" is required';
  const ports: number[] = [];
  for (const v of values) {
    if (v === '') return 'query parameter "ports" cannot be empty';
    for (const p of v.split(',')) {
      if (!/^\d+$/.test(p) || Number(p) > 65535) return `unable to parse "${v}" as a port`;
      if (Number(p) < 1) return `port "${v}" must be > 0`;
      ports.push(Number(p));
    }
  }
  return ports;
}

/** One channel's bytes as a stream: what the pod sends goes out on `channel`, what the client sends on it comes in. */
class ChannelStream extends Duplex {
  constructor(private readonly send: (data: Buffer, done: (err?: Error) => void) => void) {
    super({ allowHalfOpen: true });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    this.send(chunk, done);
  }
  override _final(done: () => void): void {
    // v4 has no way to half-close a channel: the pod's side ending ends this connection.
    done();
    this.destroy();
  }
}

export function serveWebSocketPortForward(ws: WebSocket, pod: Pod, ports: readonly number[], onForwardError: (message: string) => void = () => {}): { closeAll(): void } {
  const base64 = ws.protocol === 'v4.base64.channel.k8s.io';
  const frame = (channel: number, data: Buffer): Buffer | string => (base64 ? String(channel) + data.toString('base64') : Buffer.concat([Buffer.from([channel]), data]));
  const send = (channel: number, data: Buffer, done?: (err?: Error) => void) => {
    if (ws.readyState !== ws.OPEN) return done?.(new Error('websocket closed'));
    ws.send(frame(channel, data), done ? (err) => done(err ?? undefined) : undefined);
  };
  const streams = ports.map((_p, i) => new ChannelStream((data, done) => send(2 * i, data, done)));
  const forwards: PodForward[] = [];
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
  });
  ports.forEach((port, i) => {
    forwards.push(
      forwardToPod(pod, port, streams[i]!, (message) => {
        onForwardError(message);
        send(2 * i + 1, Buffer.from(message));
      }),
    );
  });
  void Promise.all(forwards.map((f) => f.done)).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });

  ws.on('message', (msg: Buffer, isBinary: boolean) => {
    let channel: number;
    let payload: Buffer;
    if (isBinary || !base64) {
      if (!msg.length) return;
      channel = msg[0]!;
      payload = msg.subarray(1);
    } else {
      const text = msg.toString('utf8');
      channel = text.charCodeAt(0) - 48;
      payload = Buffer.from(text.slice(1), 'base64');
    }
    // Only data channels are read; anything sent on an error channel or an unknown one is dropped.
    if (channel % 2 === 0 && streams[channel / 2] && payload.length) streams[channel / 2]!.push(payload);
  });
  const closeAll = () => {
    for (const s of streams) s.destroy();
    for (const f of forwards) f.close();
  };
  ws.on('close', closeAll);
  ws.on('error', closeAll);
  return { closeAll };
}
