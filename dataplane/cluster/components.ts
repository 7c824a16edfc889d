/**
 * The cluster's processes as in-process components. `knet <component>` runs one of them in
 * its own process; `knet up --single-process` and the test API run them all in one, sharing
 * one store connection and one watch.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { InformerFactory } from '../informer-types.js';
import { nodeIP, podSubnet, loadBalancerAddresses, nodeOrdinal, type ClusterConfig } from '../cluster-config.js';
import type { Logger } from '../log.js';
import type { ClusterDir } from './state-dir.js';
import { createEventRecorder } from '../api/events.js';
import { INGRESS_NAMESPACE, INGRESS_SERVICE } from './bootstrap.js';
import type { KObject, Kind } from '../model/object.js';
import { waitUntil } from './wait-until.js';

export type ComponentName = 'controller-manager' | 'proxy' | 'dns' | 'ingress' | `node-${number}`;

export interface ComponentContext {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log: Logger;
  clusterDir: ClusterDir;
  /** Names of the nodes this machine runs (the proxy serves their node IPs). */
  nodes: string[];
  /** Tests shorten the kubelet's crash back-off. */
  crashBackoffMs?: number;
  /** `knet dns` flags: override the cluster's dnsUpstream / dnsLogQueries for this process. */
  dns?: { upstream?: string | null; logQueries?: boolean };
}

export interface RunningComponent {
  name: ComponentName;
  /** What the component wants shown in `knet up`'s summary (e.g. the DNS port in use). */
  info?: Record<string, string | number>;
  close(): Promise<void>;
}

export function isComponentName(name: string): name is ComponentName {
  return ['controller-manager', 'proxy', 'dns', 'ingress'].includes(name) || nodeOrdinal(name) !== undefined;
}

export async function startComponent(name: ComponentName, ctx: ComponentContext): Promise<RunningComponent> {
  const log = ctx.log.child(name);
  const events = createEventRecorder(ctx.store, name, log);
  if (name === 'controller-manager') {
    // Each component is imported only where it runs: a process loads its own code, not all of knet's.
    const { startControllerManager } = await import('../controllers/controller-manager.js');
    const cm = await startControllerManager({ store: ctx.store, informers: ctx.informers, config: ctx.config, log, events });
    return { name, close: () => cm.close() };
  }
  if (name === 'proxy') {
    const nodes = ctx.nodes.map((n) => {
      const k = nodeOrdinal(n)!;
      return { name: n, ip: nodeIP(ctx.config, k), podCIDR: podSubnet(ctx.config, k) };
    });
    const { startProxy } = await import('../../proxy/proxier.js');
    const proxy = await startProxy({ informers: ctx.informers, config: ctx.config, nodes, log, events, metricsBindAddress: `${nodes[0]!.ip}:10249`, healthzBindAddress: `${nodes[0]!.ip}:10256` });
    return { name, close: () => proxy.close() };
  }
  if (name === 'dns') {
    const { startDns } = await import('../../dns/server.js');
    // A flag given to this process wins over the cluster's setting; neither = /etc/resolv.conf.
    const upstream = ctx.dns?.upstream !== undefined ? ctx.dns.upstream : ctx.config.dnsUpstream;
    const logQueries = ctx.dns?.logQueries ?? ctx.config.dnsLogQueries ?? false;
    const dns = await startDns({ informers: ctx.informers, config: ctx.config, log, upstream, logQueries, metricsPort: 9153 });
    await bootstrapObject(ctx.informers, 'Service', 'kube-system', 'kube-dns');
    await recordDnsPort(ctx.store, dns.port);
    return { name, info: { address: dns.address, port: dns.port, upstream: dns.upstream ?? 'off' }, close: () => dns.close() };
  }
  if (name === 'ingress') {
    const svc = await bootstrapObject<Service>(ctx.informers, 'Service', INGRESS_NAMESPACE, INGRESS_SERVICE);
    const lbIP = svc?.status?.loadBalancer?.ingress?.[0]?.ip ?? loadBalancerAddresses(ctx.config)[0]!;
    const extraListeners = ctx.nodes.flatMap((n) =>
      (svc?.spec?.ports ?? []).filter((p) => p.nodePort).map((p) => ({ address: nodeIP(ctx.config, nodeOrdinal(n)!), port: p.nodePort!, tls: p.port === 443 })),
    );
    const { startIngress } = await import('../../ingress/server.js');
    const ingress = await startIngress({
      informers: ctx.informers,
      config: ctx.config,
      log,
      httpAddress: lbIP,
      extraListeners,
      sourceAddress: ingressSourceAddress(ctx.config),
      store: ctx.store,
      events,
    });
    return { name, info: { address: lbIP, ...ingress.ports }, close: () => ingress.close() };
  }
  const { startNodeAgent } = await import('../node/node-agent.js');
  const agent = await startNodeAgent({
    store: ctx.store,
    informers: ctx.informers,
    config: ctx.config,
    name,
    log,
    events,
    podLogDir: (ns, pod) => ctx.clusterDir.podLogDir(ns, pod),
    crashBackoffMs: ctx.crashBackoffMs,
  });
  return { name, info: { ip: agent.ip }, close: () => agent.close() };
}

/**
 * The ingress controller's "pod IP": the last address of node-1's pod /24, which the node
 * agent never hands out, so backends see the ingress as their client as in a cluster.
 */
export function ingressSourceAddress(config: ClusterConfig): string {
  return `${config.podPrefix}.1.254`;
}

/**
 * A bootstrap object a component needs. `knet up` starts the component processes while it
 * writes the bootstrap objects, so the first read can come before the write: wait for it.
 */
async function bootstrapObject<T extends KObject>(informers: InformerFactory, kind: Kind, namespace: string, name: string): Promise<T> {
  const informer = informers.informer<T>(kind);
  return waitUntil(() => informer.get(namespace, name), {
    informers,
    kinds: [kind],
    timeoutMs: 30_000,
    onTimeout: () => new Error(`${kind} ${namespace}/${name} does not exist: it is written when the cluster starts (knet up); is this the right cluster?`),
  });
}

/** The DNS server may fall back from port 53; the kube-dns Service says which port it uses. */
async function recordDnsPort(store: ObjectStore, port: number): Promise<void> {
  await store.mutate<Service>('Service', 'kube-system', 'kube-dns', (s) => {
    const current = s.metadata?.annotations?.['knet.dev/dns-port'];
    if (current === String(port)) return undefined;
    return { ...s, metadata: { ...s.metadata, annotations: { ...s.metadata?.annotations, 'knet.dev/dns-port': String(port) } } };
  });
}
