/**
 * The cluster's processes as in-process components. `knet <component>` runs one of them in
 * its own process; `knet up --single-process` and the test API run them all in one, sharing
 * one store connection and one watch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../base/store/object-store.js';
import type { InformerFactory } from '../base/informer/informer-types.js';
import { nodeIP, podSubnet, loadBalancerAddresses, nodeOrdinal, ingressSourceAddress, type ClusterConfig } from '../base/cluster-config.js';
import type { Logger } from '../base/log.js';
import type { Clock } from '../base/clock.js';
import type { ClusterDir } from './state-dir.js';
import { createEventRecorder, type EventSource } from '../base/admission/events.js';
import { INGRESS_NAMESPACE, INGRESS_SERVICE } from './bootstrap.js';
import type { KObject, Kind } from '../base/model/object.js';
import { waitUntil } from './wait-until.js';
import { ANNOTATION_DNS_PORT } from '../base/model/well-known.js';
import { StoreInformerFactory } from '../base/store/watch.js';
import { loadSigningKey } from '../base/serviceaccount/signing-key.js';

export type ComponentName = 'apiserver' | 'controller-manager' | 'proxy' | 'dns' | 'ingress' | `node-${number}`;

export interface ComponentContext {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log: Logger;
  clusterDir: ClusterDir;
  /** Names of the nodes this machine runs (the proxy serves their node IPs). */
  nodes: string[];
  /** Tests shorten the kubelet's crash back-off, and the Job controller's back-off before replacing failed pods. */
  crashBackoffMs?: number;
  /** Tests drive time with a fake clock: the proxy's (affinity and UDP session expiry), the node agents' volume sync, and the Job and CronJob controllers' (schedules, deadlines, back-off, TTL). */
  clock?: Clock;
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
  return ['apiserver', 'controller-manager', 'proxy', 'dns', 'ingress'].includes(name) || nodeOrdinal(name) !== undefined;
}

export async function startComponent(name: ComponentName, ctx: ComponentContext): Promise<RunningComponent> {
  const log = ctx.log.child(name);
  // Each reports as its upstream counterpart does (the controllers name their own, per controller).
  const events = createEventRecorder(ctx.store, eventSource(name), log, ctx.config);
  if (name === 'apiserver') {
    if (!(ctx.informers instanceof StoreInformerFactory)) throw new Error('the apiserver needs a watch of the store (a StoreInformerFactory)');
    const { startApiServer } = await import('../apiserver/index.js');
    const api = await startApiServer({
      store: ctx.store,
      informers: ctx.informers,
      config: ctx.config,
      log,
      pkiDir: ctx.clusterDir.pkiDir,
      podLogsRoot: ctx.clusterDir.podLogsRoot,
    });
    return { name, info: { address: api.address, port: api.port }, close: () => api.close() };
  }
  if (name === 'controller-manager') {
    // Each component is imported only where it runs: a process loads its own code, not all of knet's.
    const { startControllerManager } = await import('../controllers/index.js');
    // The kube-root-ca.crt ConfigMaps publish the cluster CA the apiserver's PKI holds.
    const rootCA = () => readOptional(path.join(ctx.clusterDir.pkiDir, 'ca.crt'));
    const cm = await startControllerManager({
      store: ctx.store,
      informers: ctx.informers,
      config: ctx.config,
      log,
      rootCA,
      clock: ctx.clock,
      jobBackoffMs: ctx.crashBackoffMs,
      // A Delete volume's data goes with it.
      persistentVolumesDir: ctx.clusterDir.volumesDir,
    });
    return { name, close: () => cm.close() };
  }
  if (name === 'proxy') {
    const nodes = ctx.nodes.map((n) => {
      const k = nodeOrdinal(n)!;
      return { name: n, ip: nodeIP(ctx.config, k), podCIDR: podSubnet(ctx.config, k) };
    });
    const { startProxy } = await import('../../proxy/index.js');
    const proxy = await startProxy({ informers: ctx.informers, config: ctx.config, nodes, log, events, metricsBindAddress: `${nodes[0]!.ip}:10249`, healthzBindAddress: `${nodes[0]!.ip}:10256`, clock: ctx.clock });
    return { name, close: () => proxy.close() };
  }
  if (name === 'dns') {
    const { startDns } = await import('../../dns/index.js');
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
    const { startIngress } = await import('../../ingress/index.js');
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
  const { startNodeAgent } = await import('../node/index.js');
  const agent = await startNodeAgent({
    store: ctx.store,
    informers: ctx.informers,
    config: ctx.config,
    name,
    log,
    events,
    podLogsRoot: ctx.clusterDir.podLogsRoot,
    stateDir: ctx.clusterDir.nodeDir(name),
    // The cluster's, not the node's: a pod on another node mounts the same volume's data.
    persistentVolumesDir: ctx.clusterDir.volumesDir,
    crashBackoffMs: ctx.crashBackoffMs,
    // Pods' projected tokens, signed with the cluster's key (made with the PKI before any component starts).
    serviceAccountKey: () => loadSigningKey(ctx.clusterDir.pkiDir),
    clock: ctx.clock,
  });
  return { name, info: { ip: agent.ip }, close: () => agent.close() };
}

/** Who a component's events say they come from: the kubelet on its node, kube-proxy, ingress-nginx. */
function eventSource(name: ComponentName): EventSource {
  if (name === 'proxy') return { component: 'kube-proxy' };
  if (name === 'ingress') return { component: 'nginx-ingress-controller' };
  if (nodeOrdinal(name) !== undefined) return { component: 'kubelet', host: name };
  return { component: name };
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export { ingressSourceAddress };

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
    const current = s.metadata?.annotations?.[ANNOTATION_DNS_PORT];
    if (current === String(port)) return undefined;
    return { ...s, metadata: { ...s.metadata, annotations: { ...s.metadata?.annotations, [ANNOTATION_DNS_PORT]: String(port) } } };
  });
}
