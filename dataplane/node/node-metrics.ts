/**
 * The node agent's Prometheus endpoint: GET /metrics on the node's IP, port 10255 (the
 * kubelet's read-only port), on a registry of its own (several agents may share a process).
 * It carries what the agent enforces: `knet_netpol_denied_total{policy,direction,component}`.
 * A port that cannot be bound is a warning, never a reason not to run pods.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../base/log.js';
import { serveMetrics, type MetricsEndpoint } from '../base/net/metrics-endpoint.js';

export const NODE_METRICS_PORT = 10255;

export type NodeMetricsEndpoint = MetricsEndpoint;

export function serveNodeMetrics(address: string, port: number, registry: Registry, log: Logger): Promise<NodeMetricsEndpoint> {
  return serveMetrics(address, port, registry, log, { what: 'node metrics' });
}
