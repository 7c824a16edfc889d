/**
 * The agent's Node in the store, as the kubelet keeps it: registered at start (created, or its
 * labels, annotations, spec and status brought up to date), then a heartbeat every second by
 * default (knet's cheap liveness hash, which the node lifecycle controller reads), the Lease renewed
 * every 10 s (node-lease.ts), and Ready set again when the controller had marked the node
 * NotReady. `knet node stop NAME` sets the fault annotation: no heartbeats until
 * `knet node start NAME` clears it.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { Informer } from '../base/informer/informer-types.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import { FAULT_ANNOTATION } from '../base/model/well-known.js';
import { healthyConditions, nodeObject, nodeStatus } from './node-object.js';
import { NODE_LEASE_RENEW_MS, renewNodeLease } from './node-lease.js';

export async function registerNode(store: ObjectStore, config: ClusterConfig, name: string, ordinal: number): Promise<void> {
  const desired = nodeObject(config, name, ordinal);
  const existing = await store.get<Node>('Node', undefined, name);
  if (!existing) {
    const created = await store.create(desired);
    await store.updateStatus({ ...created, status: nodeStatus(config, name, ordinal) });
    return;
  }
  await store.mutate<Node>('Node', undefined, name, (n) => ({
    ...n,
    metadata: { ...n.metadata, labels: { ...n.metadata?.labels, ...desired.metadata?.labels }, annotations: { ...n.metadata?.annotations, ...desired.metadata?.annotations } },
    spec: { ...n.spec, ...desired.spec },
  }));
  await store.mutate<Node>('Node', undefined, name, (n) => ({ ...n, status: nodeStatus(config, name, ordinal) }), { status: true });
}

export interface NodeHeartbeatOptions {
  store: ObjectStore;
  name: string;
  nodes: Informer<Node>;
  log: Logger;
  /** The node was NotReady and is Ready again: its pods' statuses are to be written again. */
  onReadyAgain(): void;
}

export class NodeHeartbeat {
  private faultInjected = false;
  private stopped = false;
  private leaseRenewedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: NodeHeartbeatOptions) {}

  /** The node is stopped by `knet node stop`: it neither beats nor writes its pods' status. */
  get faulted(): boolean {
    return this.faultInjected;
  }

  /** Beats once, then every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** This node's object changed: the fault annotation stops or resumes the heartbeats. */
  onNodeChange(n: Node): void {
    const fault = n.metadata?.annotations?.[FAULT_ANNOTATION] === 'stopped';
    if (fault !== this.faultInjected) {
      this.faultInjected = fault;
      this.opts.log.warn(fault ? 'fault injected: node stopped (no heartbeats)' : 'fault cleared: node started');
      if (!fault) void this.beat();
    }
  }

  private async beat(): Promise<void> {
    const { store, name, log } = this.opts;
    if (this.faultInjected || this.stopped) return;
    try {
      await store.redis.hset(store.keys.heartbeats, name, String(Date.now()));
      const node = this.opts.nodes.get(undefined, name);
      if (node && Date.now() - this.leaseRenewedAt >= NODE_LEASE_RENEW_MS) {
        this.leaseRenewedAt = Date.now();
        await renewNodeLease(store, node);
      }
      const ready = node?.status?.conditions?.find((c) => c.type === 'Ready');
      if (node && ready?.status !== 'True') {
        await store.mutate<Node>('Node', undefined, name, (n) => ({ ...n, status: { ...n.status, conditions: healthyConditions() } }), { status: true });
        log.info('node Ready again');
        this.opts.onReadyAgain();
      }
    } catch (err) {
      log.warn('heartbeat failed', { error: err as Error });
    }
  }
}
