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

  /**
   * The endpoint under the cursor, advancing it; undefined when the set is empty. With
   * `avoid` (endpoint ids a retrying connection has already tried), the cursor moves on past
   * them to the first one not tried; when every member was tried, the one under the cursor.
   */
  nextEndpoint(avoid?: ReadonlySet<string>): EndpointInfo | undefined {
    const n = this.order.length;
    if (n === 0) return undefined;
    if (avoid && avoid.size > 0) {
      for (let i = 0; i < n; i++) {
        const ep = this.order[(this.next + i) % n]!;
        if (avoid.has(endpointId(ep))) continue;
        this.next = (this.next + i + 1) % n;
        return ep;
      }
    }
    const ep = this.order[this.next % n]!;
    this.next = (this.next + 1) % n;
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
