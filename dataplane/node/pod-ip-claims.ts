/**
 * A node's pod IPs as claims in the store: the pool `podip-node-N` (allocator.pool) maps each
 * address to the pod holding it, so two pods never get one address, even across agent restarts.
 * The allocator (pod-ip-allocator.ts) proposes the next address not in the pool; the claim
 * writes it into the pod's status (with its containers waiting, as the kubelet's first status),
 * then into the pool, and a store error tries again (ten times).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import { StoreError } from '../base/store/errors.js';
import type { PodIPAllocator } from './pod-ip-allocator.js';
import { waitingStatuses } from './runtime/container-status.js';

export class PodIPClaims {
  constructor(
    private readonly store: ObjectStore,
    private readonly allocator: PodIPAllocator,
    private readonly nodeName: string,
    /** The node's IP: the claimed pod's hostIP. */
    private readonly hostIP: string,
  ) {}

  /** A free address of the node's /24, written into the pod's status and claimed for it. */
  async claim(pod: Pod): Promise<string> {
    const { store, allocator, hostIP: ip } = this;
    for (let attempt = 0; attempt < 10; attempt++) {
      const taken = new Set(Object.keys(await store.redis.hgetall(store.keys.allocations(allocator.pool))));
      const candidate = allocator.next(taken);
      if (!candidate) throw new Error(`node ${this.nodeName} has no free pod IP left in its /24`);
      try {
        const owner = `Pod/${pod.metadata?.namespace}/${pod.metadata?.name}`;
        await store.mutate<Pod>('Pod', pod.metadata?.namespace, pod.metadata?.name ?? '', (p) => ({ ...p, status: { ...(p.status?.containerStatuses ? {} : waitingStatuses(p)), ...p.status, podIP: candidate, podIPs: [{ ip: candidate }], hostIP: ip, hostIPs: [{ ip }] } }), { status: true });
        await store.redis.hset(store.keys.allocations(allocator.pool), candidate, owner);
        return candidate;
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
      }
    }
    throw new Error(`could not allocate a pod IP on ${this.nodeName}`);
  }

  /** Returns a pod's address to the pool, if this pod still holds it (a reused address is not taken from its new owner). */
  async release(podIP: string, podKey: string): Promise<void> {
    const owner = `Pod/${podKey}`;
    await this.store.redis
      .eval("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0", 1, this.store.keys.allocations(this.allocator.pool), podIP, owner)
      .catch(() => 0);
  }
}
