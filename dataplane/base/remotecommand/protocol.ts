/**
 * The remote-command streaming protocol Kubernetes uses for exec and attach over WebSocket
 * (apimachinery wsstream, client-go tools/remotecommand), spoken by the node's exec endpoint and
 * its clients (`knet exec`, the test API's `cluster.exec`); the API server passes it through:
 *   subprotocol `v5.channel.k8s.io` (kubectl 1.30+) or `v4.channel.k8s.io` (client libraries):
 *   each binary message starts with its channel byte: 0 stdin, 1 stdout, 2 stderr,
 *   3 error (the final metav1.Status as JSON), 4 resize (`{"Width":80,"Height":24}`);
 *   v5 adds CLOSE: `[255, channel]`, sent by the client at stdin's EOF;
 *   `v4.base64.channel.k8s.io` (browsers) carries the same as text messages: the channel as an
 *   ASCII digit, then the data in base64.
 * Pure.
 */
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** What a client offers, newest first. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** What the node's endpoint accepts. */
export const SERVED_PROTOCOLS: readonly string[] = [...EXEC_PROTOCOLS, 'v4.base64.channel.k8s.io'];

const BASE64 = 'v4.base64.channel.k8s.io';

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** A message for `protocol`: binary for the channel protocols, text for the base64 one. */
export function encodeFrame(protocol: string, channel: number, data: Buffer | string): Buffer | string {
  if (protocol !== BASE64) return frame(channel, data);
  return String(channel) + (typeof data === 'string' ? Buffer.from(data) : data).toString('base64');
}

/** A received message's channel and data; undefined for an empty or malformed one (ignored, as wsstream does). */
export function decodeFrame(protocol: string, data: Buffer, isBinary: boolean): { channel: number; body: Buffer } | undefined {
  if (data.length === 0) return undefined;
  if (protocol === BASE64 && !isBinary) {
    const text = data.toString('latin1');
    const channel = text.charCodeAt(0) - 48;
    if (channel < 0 || channel > 9) return undefined;
    return { channel, body: Buffer.from(text.slice(1), 'base64') };
  }
  return { channel: data[0]!, body: data.subarray(1) };
}

/** Only v5 can say "stdin is over" without closing the connection. */
export function supportsClose(protocol: string): boolean {
  return protocol === 'v5.channel.k8s.io';
}

/** The Status the error channel carries when the command ends (what kubectl turns into its exit code). */
export function exitStatus(code: number, command: string[]): object {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A Status for a failure before the command ran (container not running…). */
export function failureStatus(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError' };
}

export interface StreamStatus {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string }> };
}

/** The exit code a Status stands for, as client-go reads it: 0, the ExitCode cause, or 1 with a message. */
export function statusExitCode(status: StreamStatus): { code: number; message?: string } {
  if (status.status === 'Success') return { code: 0 };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message && /^\d+$/.test(cause.message)) return { code: Number(cause.message) };
  return { code: 1, message: status.message ?? 'error executing command' };
}
