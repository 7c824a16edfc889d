/**
 * Round robin as the userspace proxier did it (pkg/proxy/userspace/roundrobin.go): strict
 * rotation through a list, and whenever the set of endpoints really changes the new list is
 * shuffled and the rotation restarts. Random per update, fair between updates.
 */
import { endpointId, type EndpointInfo } from './service-table.js';

export type Random = () => number;

export class RoundRobin {
  private order: EndpointInfo[] = [];
  private signature = '';
  private next = 0;
  /** The array last adopted: the chooser hands the same array until the next sync, so this skips the work. */
  private lastInput: readonly EndpointInfo[] | undefined;

  constructor(private readonly random: Random = Math.random) {}

  /**
   * Adopts a candidate set. The same members (whatever their order or object identity) keep
   * the rotation going; a different set is shuffled and starts over.
   */
  setEndpoints(endpoints: readonly EndpointInfo[]): void {
    if (endpoints === this.lastInput) return;
    this.lastInput = endpoints;
    const signature = signatureOf(endpoints);
    if (signature === this.signature) {
      // Same members: keep order and cursor, but hold the fresh objects (conditions may differ).
      const fresh = new Map(endpoints.map((ep) => [endpointId(ep), ep] as const));
      this.order = this.order.map((ep) => fresh.get(endpointId(ep)) ?? ep);
      return;
    }
    this.signature = signature;
    this.order = shuffle([...endpoints], this.random);
    this.next = 0;
  }

  /** The endpoint under the cursor, advancing it; undefined when the set is empty. */
  nextEndpoint(): EndpointInfo | undefined {
    if (this.order.length === 0) return undefined;
    const ep = this.order[this.next % this.order.length]!;
    this.next = (this.next + 1) % this.order.length;
    return ep;
  }

  /** The current rotation, for introspection and tests. */
  members(): readonly EndpointInfo[] {
    return this.order;
  }
}

export function signatureOf(endpoints: readonly EndpointInfo[]): string {
  return endpoints.map(endpointId).sort().join(',');
}

/** Fisher–Yates. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
