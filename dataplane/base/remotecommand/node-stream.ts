/**
 * Where a client inside the cluster's trust (`knet exec`, the test API) sends an exec or attach
 * to reach a pod's container without the API server: the exec endpoint of the node that runs it,
 * with that node's token. Refuses what kubectl refuses before connecting (a completed pod) and
 * what the API server would (a pod with no node).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import { execEndpointOf, execUrl, type StreamRequest } from './node-endpoint.js';

export async function nodeStreamUrl(store: ObjectStore, pod: Pod, kind: 'exec' | 'attach', r: Omit<StreamRequest, 'namespace' | 'pod'>): Promise<{ url: string; headers: Record<string, string> }> {
  const name = pod.metadata?.name ?? '';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new Error(`cannot ${kind === 'exec' ? 'exec into' : 'attach'} a container in a completed pod; current phase is ${phase}`);
  const node = pod.spec?.nodeName;
  if (!node) throw new Error(`pod ${name} does not have a host assigned`);
  const endpoint = await execEndpointOf(store, node);
  if (!endpoint) throw new Error(`node ${node} has no exec endpoint (is its node agent running?)`);
  return {
    url: execUrl(endpoint, { ...r, namespace: pod.metadata?.namespace ?? 'default', pod: name }, kind),
    headers: { Authorization: `Bearer ${endpoint.token}` },
  };
}
