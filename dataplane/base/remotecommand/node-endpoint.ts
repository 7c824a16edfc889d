/**
 * Where a node's exec endpoint (the kubelet's streaming server analog) listens and the token it
 * accepts, kept in the state store (hash `{knet:<cluster>}:node-exec`, field = node name), not on
 * the Node object: the API serves Nodes to anyone who may read them, the store only to the
 * cluster's own processes. The node agent publishes it; the API server (to proxy `pods/exec`
 * and `pods/attach`), `knet exec` and the test API read it.
 */
import type { ObjectStore } from '../store/object-store.js';

export interface ExecEndpoint {
  address: string;
  port: number;
  token: string;
}

export async function publishExecEndpoint(store: ObjectStore, node: string, endpoint: ExecEndpoint): Promise<void> {
  await store.redis.hset(store.keys.nodeExec, node, JSON.stringify(endpoint));
}

export async function execEndpointOf(store: ObjectStore, node: string): Promise<ExecEndpoint | undefined> {
  const raw = await store.redis.hget(store.keys.nodeExec, node);
  return raw ? (JSON.parse(raw) as ExecEndpoint) : undefined;
}

export interface StreamRequest {
  namespace: string;
  pod: string;
  container: string;
  /** exec only. */
  command?: string[];
  stdin: boolean;
  /** Default true. */
  stdout?: boolean;
  /** Default true; never with a terminal (one stream), as the kubelet does it. */
  stderr?: boolean;
  tty: boolean;
}

/**
 * The kubelet's path and query for an exec or attach on the node: `/exec/ns/pod/container?…`,
 * query as kube-apiserver's streamParams writes it (`stdin=1`, `command=…` repeated).
 */
export function streamPath(kind: 'exec' | 'attach', r: StreamRequest): string {
  const q = new URLSearchParams();
  if (kind === 'exec') for (const c of r.command ?? []) q.append('command', c);
  if (r.stdin) q.set('stdin', '1');
  // Written either way: the node reads an absent flag as true.
  q.set('stdout', (r.stdout ?? true) ? '1' : '0');
  if (!r.tty) q.set('stderr', (r.stderr ?? true) ? '1' : '0');
  if (r.tty) q.set('tty', '1');
  return `/${kind}/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.pod)}/${encodeURIComponent(r.container)}?${q}`;
}

/** `ws://address:port/exec/ns/pod/container?command=…` for an exec (or attach) request. */
export function execUrl(endpoint: ExecEndpoint, r: StreamRequest, kind: 'exec' | 'attach' = 'exec'): string {
  return `ws://${endpoint.address}:${endpoint.port}${streamPath(kind, r)}`;
}
