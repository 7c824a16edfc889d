/**
 * Why a TCP connection through the proxy ended with a reset: every reset the proxy sends or
 * passes on is counted in `knet_proxy_resets_total{service,reason}` and logged with the
 * service port, the client, the endpoint (and its pod) and the reason, so a dropped
 * connection is never silent (issue #18: a burst of resets showed nowhere).
 *
 * A reset is passed on, never turned into a FIN: a FIN after a failure would tell the other
 * side the stream ended cleanly, and a response cut short would look complete.
 */
import type { Logger } from '../dataplane/base/log.js';
import type { ProxyMetrics } from './metrics.js';
import { endpointId, type EndpointInfo } from './service-table.js';

export type ResetReason =
  /** No usable endpoint (the listener was about to close): the client is reset, as kube-proxy's REJECT does. */
  | 'no_endpoints'
  /** The client reset its connection; passed on to the endpoint (or the connect under way is dropped). */
  | 'client_reset'
  /** The client's socket failed otherwise (timed out, a write failed); the endpoint is reset. */
  | 'client_error'
  /** The endpoint reset the connection; passed on to the client. */
  | 'endpoint_reset'
  /** The endpoint's socket failed otherwise; the client is reset. */
  | 'endpoint_error'
  /** accept() failed (out of file descriptors): the kernel's pending connections were closed unserved. */
  | 'accept_failed';

const WHAT: Record<ResetReason, string> = {
  no_endpoints: 'no endpoint to forward to',
  client_reset: 'the client reset the connection',
  client_error: "the client's socket failed",
  endpoint_reset: 'the endpoint reset the connection',
  endpoint_error: "the endpoint's socket failed",
  accept_failed: 'accept failed; pending connections were closed unserved',
};

/** What a socket error on one side means. */
export function resetReasonOf(side: 'client' | 'endpoint', err: NodeJS.ErrnoException): ResetReason {
  const reset = err.code === 'ECONNRESET';
  if (side === 'client') return reset ? 'client_reset' : 'client_error';
  return reset ? 'endpoint_reset' : 'endpoint_error';
}

export interface ResetReport {
  service: string;
  reason: ResetReason;
  client?: string;
  /** The endpoint forwarded to, or being connected to. */
  endpoint?: EndpointInfo;
  error?: NodeJS.ErrnoException;
  /** accept_failed: the listener. */
  listener?: string;
  /** What the proxy did about it: "reset the client", "reset the endpoint", "dropped the connect", … */
  action?: string;
}

export class ResetRecorder {
  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly log: Logger,
  ) {}

  record(r: ResetReport): void {
    this.metrics.resets.inc({ service: r.service, reason: r.reason });
    const fields: Record<string, unknown> = { service: r.service, reason: r.reason };
    if (r.client) fields.client = r.client;
    if (r.listener) fields.listener = r.listener;
    if (r.endpoint) {
      fields.endpoint = endpointId(r.endpoint);
      if (r.endpoint.podName) fields.pod = r.endpoint.podName;
    }
    if (r.error) fields.error = r.error.code ?? r.error.message;
    if (r.action) fields.action = r.action;
    if (r.reason === 'accept_failed') {
      fields.fix = r.error?.code === 'EMFILE' || r.error?.code === 'ENFILE' ? 'raise the open-files limit (ulimit -n) of the knet proxy process' : 'see the error';
      this.log.warn(`connection reset: ${WHAT[r.reason]}`, fields);
      return;
    }
    this.log.info(`connection reset: ${WHAT[r.reason]}`, fields);
  }
}
