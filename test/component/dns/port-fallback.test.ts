/**
 * Port 53 without privilege: the bind fails with EACCES (simulated: the tests run as root),
 * the server says so in one warning line naming the fixes and serves on the fallback port
 * of the same address, where dig -p finds it. Server on 127.50.0.14.
 */
import { expect, it } from 'vitest';
import { clusterConfig } from '../../../dataplane/base/cluster-config.js';
import { MemoryInformerFactory } from '../../../dataplane/base/informer/informer-cache.js';
import { createLogger } from '../../../dataplane/base/log.js';
import { bindDnsSockets } from '../../../dns/listen.js';
import { startDns } from '../../../dns/server.js';
import { clusterIP, tcp } from '../../unit/dns/fixtures.js';
import { dig } from './support.js';

const ADDRESS = '127.50.0.14';

function eacces(port: number): Error {
  return Object.assign(new Error(`listen EACCES: permission denied ${ADDRESS}:${port}`), { code: 'EACCES' });
}

it('falls back to 5353 on EACCES, warns once with the fixes, and answers there', async () => {
  const lines: string[] = [];
  const informers = new MemoryInformerFactory();
  informers.upsert(clusterIP('default', 'kubernetes', ['10.96.0.1'], [tcp('https', 443)]));
  const dns = await startDns({
    informers,
    config: clusterConfig(0),
    log: createLogger('dns', { write: (l) => lines.push(l) }),
    address: ADDRESS,
    upstream: null,
    bind: (address, port) => (port < 1024 ? Promise.reject(eacces(port)) : bindDnsSockets(address, port)),
  });
  try {
    expect(dns.port).toBe(5353);
    expect(dns.address).toBe(ADDRESS);
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`${ADDRESS}:53`);
    expect(warnings[0]!.msg).toContain(`${ADDRESS}:5353`);
    expect(warnings[0]!.msg).toContain('sudo');
    expect(warnings[0]!.msg).toContain('net.ipv4.ip_unprivileged_port_start=0');
    expect(warnings[0]!.msg).toContain('setcap cap_net_bind_service=+ep $(which node)');
    for (const flag of ['+notcp', '+tcp']) {
      const r = await dig(dns, [flag, 'kubernetes.default.svc.cluster.local']);
      expect(r.answer).toEqual(['kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1']);
    }
  } finally {
    await dns.close();
  }
});

it('uses the configured fallback port', async () => {
  const dns = await startDns({
    informers: new MemoryInformerFactory(),
    config: clusterConfig(0),
    log: createLogger('dns', { write: () => {} }),
    address: ADDRESS,
    fallbackPort: 10053,
    upstream: null,
    bind: (address, port) => (port < 1024 ? Promise.reject(eacces(port)) : bindDnsSockets(address, port)),
  });
  expect(dns.port).toBe(10053);
  await dns.close();
});

it('does not fall back on other errors: a taken port is an error naming the address', async () => {
  const first = await startDns({ informers: new MemoryInformerFactory(), config: clusterConfig(0), log: createLogger('dns', { write: () => {} }), address: ADDRESS, port: 10054, upstream: null });
  try {
    await expect(
      startDns({ informers: new MemoryInformerFactory(), config: clusterConfig(0), log: createLogger('dns', { write: () => {} }), address: ADDRESS, port: 10054, upstream: null }),
    ).rejects.toThrow(`cannot serve DNS on ${ADDRESS}:10054: the port is already in use`);
  } finally {
    await first.close();
  }
});

it('port 0 picks one free port for both UDP and TCP', async () => {
  const dns = await startDns({ informers: new MemoryInformerFactory(), config: clusterConfig(0), log: createLogger('dns', { write: () => {} }), address: ADDRESS, port: 0, upstream: null });
  try {
    expect(dns.port).toBeGreaterThan(0);
    expect((await dig(dns, ['+tcp', 'cluster.local', 'SOA'])).status).toBe('NOERROR');
    expect((await dig(dns, ['cluster.local', 'SOA'])).status).toBe('NOERROR');
  } finally {
    await dns.close();
  }
});
