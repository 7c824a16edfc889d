/**
 * GET /metrics on the DNS address (CoreDNS's `prometheus :9153`): the counters move with the
 * queries dig sends; an unbindable port is a warning and DNS still serves; close frees it.
 * Servers on 127.50.0.17 and 127.50.0.18.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../../dataplane/base/log.js';
import type { DnsServerHandle } from '../../../dns/server.js';
import { dig, startFixtureServer } from './support.js';

const ADDRESS = '127.50.0.17';
let dns: DnsServerHandle;

beforeAll(async () => {
  ({ dns } = await startFixtureServer(ADDRESS, { metricsPort: 9153 }));
});

afterAll(async () => {
  await dns?.close();
});

const scrape = async (path = '/metrics') => {
  const res = await fetch(`http://${ADDRESS}:9153${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
};
const value = (body: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(body)?.[1] ?? NaN);

it('serves Prometheus text whose counters follow the queries', async () => {
  expect(dns.metricsPort).toBe(9153);
  const before = await scrape();
  expect(before.status).toBe(200);
  expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);
  await dig(dns, ['+notcp', 'db.prod.svc.cluster.local']);
  await dig(dns, ['+notcp', 'db.prod.svc.cluster.local']);
  await dig(dns, ['+tcp', 'nope.prod.svc.cluster.local', 'SRV']);
  const after = (await scrape()).body;
  const delta = (series: string) => value(after, series) - (value(before.body, series) || 0);
  expect(delta('knet_dns_requests_total{type="A",proto="udp"}')).toBe(2);
  expect(delta('knet_dns_requests_total{type="SRV",proto="tcp"}')).toBe(1);
  expect(delta('knet_dns_responses_total{rcode="NXDOMAIN"}')).toBe(1);
  expect(delta('knet_dns_cache_hits_total')).toBeGreaterThanOrEqual(1);
  expect((await scrape('/other')).status).toBe(404);
});

it('warns and still serves DNS when the metrics port is taken', async () => {
  const address = '127.50.0.18';
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(9153, address, r));
  const lines: string[] = [];
  const { dns: second } = await startFixtureServer(address, { metricsPort: 9153, log: createLogger('dns', { write: (l) => lines.push(l) }) });
  try {
    expect(second.metricsPort).toBeUndefined();
    expect(lines.filter((l) => l.includes('"level":"warn"')).join('\n')).toMatch(/cannot serve DNS metrics on 127\.50\.0\.18:9153: the port is in use; DNS is served regardless/);
    expect((await dig(second, ['db.prod.svc.cluster.local'])).status).toBe('NOERROR');
  } finally {
    await second.close();
    await new Promise((r) => squatter.close(r));
  }
});

it('frees the port on close', async () => {
  await dns.close();
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(9153, ADDRESS, resolve);
  });
  await new Promise((r) => probe.close(r));
});
