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
  get config(): string {
    return `${this.prefix}:config`;
  }
  get heartbeats(): string {
    return `${this.prefix}:heartbeats`;
  }
  objects(kind: Kind): string {
    return `${this.prefix}:obj:${kind}`;
  }
  allocations(pool: string): string {
    return `${this.prefix}:alloc:${pool}`;
  }
}
