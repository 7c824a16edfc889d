/**
 * Key layout. Every key of one cluster shares the hash tag `{knet:<cluster>}` so the layout
 * also works on Redis Cluster (a Lua script may only touch one slot).
 */
import type { Kind } from '../model/object.js';

export class StoreKeys {
  readonly prefix: string;
  constructor(readonly cluster: string) {
    this.prefix = `{knet:${cluster}}`;
  }
  get rv(): string {
    return `${this.prefix}:rv`;
  }
  get events(): string {
    return `${this.prefix}:events`;
  }
  /** Keys that expire: a sorted set of "Kind|key" by expiry time (epoch ms). */
  get expiry(): string {
    return `${this.prefix}:expiry`;
  }
  get config(): string {
    return `${this.prefix}:config`;
  }
  get heartbeats(): string {
    return `${this.prefix}:heartbeats`;
  }
  /** Node name → its exec endpoint (address, port, bearer token), for the API server and `knet exec`. */
  get nodeExec(): string {
    return `${this.prefix}:node-exec`;
  }
  objects(kind: Kind): string {
    return `${this.prefix}:obj:${kind}`;
  }
  allocations(pool: string): string {
    return `${this.prefix}:alloc:${pool}`;
  }
}
