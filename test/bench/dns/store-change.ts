/**
 * Change → new answer through the real path: a write to the cluster's Redis store (the Lua
 * commit and its stream event), the watch (XREAD BLOCK), the DNS informer and index, then the
 * answer to a query. A real cluster (embedded Redis, controller-manager, one node, DNS) runs in
 * this process; the Service is selectorless and its EndpointSlice hand-written, so the
 * controllers take no part in it and the figure is the store-to-DNS path alone.
 */
import dgram from 'node:dgram';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startCluster } from '../../../dataplane/testing/index.js';
import { askUntil } from './ask.js';

const NS = 'bench';
const NAME = 'changing';

function sliceWith(ip: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${NAME}-manual`, namespace: NS, labels: { 'kubernetes.io/service-name': NAME } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  };
}

/** Milliseconds from the start of each write to the first answer that shows it, sorted. */
export async function storeChangeLatencies(samples: number): Promise<number[]> {
  const cluster = await startCluster({ nodes: 1, components: { proxy: false, ingress: false }, config: { dnsUpstream: null } });
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  const server = { address: cluster.dnsServer.host, port: cluster.dnsServer.port };
  const fqdn = `${NAME}.${NS}.svc.${cluster.config.clusterDomain}`;
  const ipOf = (i: number) => `${cluster.config.podPrefix}.1.${(i % 250) + 1}`;
  try {
    await cluster.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: NAME, namespace: NS }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } },
      sliceWith(ipOf(0)),
    ], { wait: false });
    if (!(await askUntil(client, server, fqdn, (a) => a.includes(ipOf(0))))) throw new Error('the cluster DNS never answered the first endpoint');
    const out: number[] = [];
    for (let i = 1; i <= samples; i++) {
      const ip = ipOf(i);
      const t0 = process.hrtime.bigint();
      await cluster.store.mutate<EndpointSlice>('EndpointSlice', NS, `${NAME}-manual`, (s) => ({ ...s, endpoints: sliceWith(ip).endpoints }));
      if (!(await askUntil(client, server, fqdn, (a) => a.includes(ip), 2000))) throw new Error(`store change ${i} never showed in the answer`);
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return out.sort((a, b) => a - b);
  } finally {
    client.close();
    await cluster.close();
  }
}
