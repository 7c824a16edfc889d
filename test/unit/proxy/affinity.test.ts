import { describe, expect, it } from 'vitest';
import { AffinityTable } from '../../../proxy/affinity.js';
import type { EndpointInfo } from '../../../proxy/service-table.js';

const e = (ip: string): EndpointInfo => ({ ip, port: 80, zoneHints: [], ready: true, serving: true, terminating: false });
const A = e('127.51.1.1');
const B = e('127.51.1.2');

describe('AffinityTable', () => {
  it('returns the recorded endpoint within the timeout and slides the window', () => {
    const t = new AffinityTable(10);
    t.record('c1', A, 0);
    expect(t.lookup('c1', [A, B], 9_000)).toBe(A);
    // Refreshed at 9 s: still live at 18 s, 9 s after the last use.
    expect(t.lookup('c1', [A, B], 18_000)).toBe(A);
    // 10 s idle: expired and forgotten.
    expect(t.lookup('c1', [A, B], 28_000)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('is keyed by client IP only', () => {
    const t = new AffinityTable(10);
    t.record('c1', A, 0);
    expect(t.lookup('c2', [A, B], 1)).toBeUndefined();
  });

  it('misses when the endpoint is not a candidate (other scope) but keeps the record', () => {
    const t = new AffinityTable(10);
    t.record('c1', A, 0);
    expect(t.lookup('c1', [B], 1)).toBeUndefined();
    expect(t.lookup('c1', [A, B], 2)).toBe(A);
  });

  it('prune drops records of departed endpoints and idle records', () => {
    const t = new AffinityTable(10);
    t.record('c1', A, 0);
    t.record('c2', B, 5_000);
    t.prune(new Set(['127.51.1.2:80']), 6_000);
    expect(t.entries()).toEqual([['c2', '127.51.1.2:80']]);
    t.prune(new Set(['127.51.1.2:80']), 15_000);
    expect(t.size).toBe(0);
  });
});
