/**
 * A 300-pod headless service: too big for UDP, so the answer comes back truncated with TC
 * and dig retries over TCP, where all 300 fit. Server on 127.50.0.11:53.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DnsServerHandle } from '../../../dns/server.js';
import { headless, slice, tcp, type EndpointSpec } from '../../unit/dns/fixtures.js';
import { dig, startFixtureServer } from './support.js';

const ADDRESS = '127.50.0.11';
const N = 300;
let dns: DnsServerHandle;

function endpoints(from: number, count: number): EndpointSpec[] {
  return Array.from({ length: count }, (_, i) => ({ ip: `10.244.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}` }));
}

beforeAll(async () => {
  // Three slices, as the EndpointSlice controller splits large services (≤100 per slice here).
  const objects = [
    headless('prod', 'big', [tcp('http', 80)]),
    slice('prod', 'big', endpoints(0, 100), [tcp('http', 80)], 'big-a'),
    slice('prod', 'big', endpoints(100, 100), [tcp('http', 80)], 'big-b'),
    slice('prod', 'big', endpoints(200, 100), [tcp('http', 80)], 'big-c'),
  ];
  ({ dns } = await startFixtureServer(ADDRESS, {}, objects));
});

afterAll(async () => {
  await dns.close();
});

it('UDP without TCP retry gets TC and the records that fit', async () => {
  const r = await dig(dns, ['+ignore', 'big.prod.svc.cluster.local']);
  expect(r.flags).toContain('tc');
  expect(r.status).toBe('NOERROR');
  expect(r.answer.length).toBeGreaterThan(10);
  expect(r.answer.length).toBeLessThan(N);
  // Everything sent fits dig's 1232-byte EDNS buffer.
  const size = /MSG SIZE\s+rcvd: (\d+)/.exec((await dig(dns, ['+ignore', '+stats', 'big.prod.svc.cluster.local'])).raw);
  if (size) expect(Number(size[1])).toBeLessThanOrEqual(1232);
});

it.each([
  [100, 512],
  [700, 700],
  [1232, 1232],
  [4096, 4096],
])('dig +bufsize=%i: the reply fits %i bytes with as many records as fit, TC, and its OPT says the size dig sent', async (size, inForce) => {
  const r = await dig(dns, ['+ignore', '+stats', `+bufsize=${size}`, 'big.prod.svc.cluster.local']);
  expect(r.flags).toContain('tc');
  expect(r.raw).toMatch(new RegExp(`EDNS: version: 0, flags:; udp: ${size}\\n`));
  const rcvd = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(r.raw)![1]);
  expect(rcvd).toBeLessThanOrEqual(inForce);
  expect(rcvd + 16).toBeGreaterThan(inForce); // one more compressed A record would not have fit
});

it('dig +bufsize=16384 gets all 300 over UDP, no TC (no server maximum, as CoreDNS without bufsize)', async () => {
  const r = await dig(dns, ['+ignore', '+bufsize=16384', 'big.prod.svc.cluster.local']);
  expect(r.flags).not.toContain('tc');
  expect(r.answer).toHaveLength(N);
});

it('without EDNS the limit is 512 bytes', async () => {
  const r = await dig(dns, ['+ignore', '+noedns', 'big.prod.svc.cluster.local']);
  expect(r.flags).toContain('tc');
  // 12 header + 32 question + 16 per compressed A record.
  expect(r.answer.length).toBe(Math.floor((512 - 12 - 32) / 16));
});

it('dig retries over TCP after TC and gets all 300', async () => {
  const r = await dig(dns, ['big.prod.svc.cluster.local']);
  expect(r.flags).not.toContain('tc');
  expect(r.answer).toHaveLength(N);
  expect(new Set(r.answer).size).toBe(N);
});

it('+tcp gets all 300, and SRV too', async () => {
  expect((await dig(dns, ['+tcp', 'big.prod.svc.cluster.local'])).answer).toHaveLength(N);
  const srv = await dig(dns, ['+tcp', '_http._tcp.big.prod.svc.cluster.local', 'SRV']);
  expect(srv.answer).toHaveLength(N);
  expect(srv.answer[0]).toMatch(/ SRV 0 1 80 10-244-\d+-\d+\.big\.prod\.svc\.cluster\.local\.$/);
  expect(srv.additional).toHaveLength(N);
});

it('SRV glue that does not fit over UDP also sets TC', async () => {
  const r = await dig(dns, ['+ignore', '_http._tcp.big.prod.svc.cluster.local', 'SRV']);
  expect(r.flags).toContain('tc');
});
