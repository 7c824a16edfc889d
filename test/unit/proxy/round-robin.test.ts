import { describe, expect, it } from 'vitest';
import { RoundRobin, shuffle } from '../../../proxy/round-robin.js';
import type { EndpointInfo } from '../../../proxy/service-table.js';

const e = (ip: string): EndpointInfo => ({ ip, port: 80, zoneHints: [], ready: true, serving: true, terminating: false });
const seq = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('RoundRobin', () => {
  it('rotates strictly through every endpoint', () => {
    const rr = new RoundRobin();
    rr.setEndpoints([e('a'), e('b'), e('c')]);
    const picks = Array.from({ length: 6 }, () => rr.nextEndpoint()!.ip);
    expect(new Set(picks.slice(0, 3)).size).toBe(3);
    expect(picks.slice(3)).toEqual(picks.slice(0, 3));
  });

  it('keeps the rotation when the same set comes again (other order, other objects)', () => {
    const rr = new RoundRobin(seq([0.1, 0.9]));
    rr.setEndpoints([e('a'), e('b'), e('c')]);
    const first = rr.nextEndpoint()!.ip;
    rr.setEndpoints([e('c'), e('a'), e('b')]);
    const second = rr.nextEndpoint()!.ip;
    rr.setEndpoints([e('b'), e('c'), e('a')]);
    const third = rr.nextEndpoint()!.ip;
    expect(new Set([first, second, third]).size).toBe(3);
  });

  it('reshuffles and restarts when the set changes', () => {
    const order = () => {
      const rr = new RoundRobin(seq([0]));
      rr.setEndpoints([e('a'), e('b'), e('c')]);
      rr.nextEndpoint();
      rr.setEndpoints([e('a'), e('b'), e('c'), e('d')]);
      return rr.members().map((x) => x.ip);
    };
    // random() = 0 always swaps with index 0: a deterministic shuffle of [a,b,c,d].
    expect(order()).toEqual(shuffle(['a', 'b', 'c', 'd'], () => 0));
    const rr = new RoundRobin(seq([0]));
    rr.setEndpoints([e('a'), e('b')]);
    rr.nextEndpoint();
    rr.setEndpoints([e('a'), e('b'), e('c')]);
    expect(rr.nextEndpoint()!.ip).toBe(rr.members()[0]!.ip);
  });

  it('shuffles with the injected randomness (order varies between updates)', () => {
    const orders = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const rr = new RoundRobin();
      rr.setEndpoints([e('a'), e('b'), e('c'), e('d')]);
      orders.add(rr.members().map((x) => x.ip).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it('passes over endpoints a retrying connection has tried, while another is left', () => {
    const rr = new RoundRobin(seq([0]));
    rr.setEndpoints([e('a'), e('b'), e('c')]);
    const [x, y, z] = rr.members().map((m) => m.ip) as [string, string, string];
    // Cursor on x; x and y tried: z, and the cursor moves past it (back to x).
    expect(rr.nextEndpoint(new Set([`${x}:80`, `${y}:80`]))!.ip).toBe(z);
    expect(rr.nextEndpoint()!.ip).toBe(x);
    // Every member tried: the one under the cursor, as without the set.
    expect(rr.nextEndpoint(new Set([`${x}:80`, `${y}:80`, `${z}:80`]))!.ip).toBe(y);
    expect(rr.nextEndpoint(new Set())!.ip).toBe(z);
  });

  it('returns undefined for an empty set', () => {
    const rr = new RoundRobin();
    rr.setEndpoints([]);
    expect(rr.nextEndpoint()).toBeUndefined();
  });
});
