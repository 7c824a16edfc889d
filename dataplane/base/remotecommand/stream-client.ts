/**
 * The client side of an exec or attach stream (client-go's remotecommand over WebSocket), shared
 * by `knet exec` (the terminal's stdio) and the test API's `cluster.exec` (buffers): connects
 * with the channel subprotocols, forwards stdin (its end as v5's CLOSE), resizes, writes stdout
 * and stderr where asked, and resolves with the exit code the final Status carries.
 *
 * A refused upgrade rejects with client-go's wording, `unable to upgrade connection: <body>`, or
 * the Status message when the body is one (the API server's own refusals).
 */
import type { Readable, Writable } from 'node:stream';
import WebSocket from 'ws';
import { CHANNEL, EXEC_PROTOCOLS, frame, statusExitCode, supportsClose, type StreamStatus } from './protocol.js';

export interface RemoteCommandIO {
  /** Sent on the stdin channel; its end is sent as v5's CLOSE (v4 has no way to say it). */
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Called once connected with the resize sender (a terminal's size and its changes). */
  onOpen?(session: { resize(width: number, height: number): void }): void;
}

export interface RemoteCommandOptions {
  headers?: Record<string, string>;
  /** Default: v5, then v4. */
  protocols?: readonly string[];
  /** TLS trust for a wss:// URL (the API server's CA). */
  ca?: string;
  /** A client certificate for a wss:// URL. */
  cert?: string;
  key?: string;
}

export interface RemoteCommandResult {
  /** The command's exit code (0 when the stream ended without a Status, as client-go reads it). */
  code: number;
  /** Why it failed when that was not an exit code (container not running, …). */
  message?: string;
  status?: StreamStatus;
}

export function streamRemoteCommand(url: string, opts: RemoteCommandOptions, io: RemoteCommandIO): Promise<RemoteCommandResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [...(opts.protocols ?? EXEC_PROTOCOLS)], { headers: opts.headers, ca: opts.ca, cert: opts.cert, key: opts.key });
    let result: RemoteCommandResult | undefined;
    let opened = false;
    const onData = (c: Buffer | string) => {
      if (ws.readyState === ws.OPEN) ws.send(frame(CHANNEL.stdin, typeof c === 'string' ? Buffer.from(c) : c));
    };
    const onEnd = () => {
      if (ws.readyState === ws.OPEN && supportsClose(ws.protocol)) ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
    };
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new Error(upgradeFailure(Buffer.concat(chunks).toString(), res.statusMessage))));
    });
    ws.on('error', (err) => {
      if (!opened) reject(new Error(`unable to upgrade connection: ${err.message}`));
    });
    ws.on('open', () => {
      opened = true;
      io.onOpen?.({
        resize: (width, height) => {
          if (ws.readyState === ws.OPEN) ws.send(frame(CHANNEL.resize, JSON.stringify({ Width: width, Height: height })));
        },
      });
      if (!io.stdin) return;
      io.stdin.on('data', onData);
      io.stdin.once('end', onEnd);
      io.stdin.resume();
    });
    ws.on('message', (data: Buffer) => {
      const channel = data[0];
      const body = data.subarray(1);
      if (channel === CHANNEL.stdout) io.stdout?.write(body);
      else if (channel === CHANNEL.stderr) io.stderr?.write(body);
      else if (channel === CHANNEL.error && body.length) {
        let status: StreamStatus;
        try {
          status = JSON.parse(body.toString()) as StreamStatus;
        } catch {
          // v1-style plain-text error.
          status = { status: 'Failure', message: body.toString() };
        }
        result = { ...statusExitCode(status), status };
      }
    });
    ws.on('close', () => {
      io.stdin?.off('data', onData);
      io.stdin?.off('end', onEnd);
      if (opened) resolve(result ?? { code: 0 });
    });
  });
}

/** client-go's message for a refused upgrade: a Status's message, else the body's text. */
function upgradeFailure(body: string, statusMessage: string | undefined): string {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    if (s.kind === 'Status' && s.message) return s.message;
  } catch {
    // Not a Status: the kubelet's plain-text errors.
  }
  return `unable to upgrade connection: ${body.trim() || statusMessage}`;
}
