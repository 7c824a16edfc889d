/**
 * `knet proxy`: the I/O shell around the pure core. Like kube-proxy, change notifications from
 * the Service, EndpointSlice and Node informers only mark the state dirty; one full sync
 * (rebuild the table, update the chooser, diff the listeners) runs once the current batch of
 * events has been delivered, so a burst of events costs one sync and a new service answers
 * within milliseconds. Connections never read the store: they read the chooser's in-memory table.
 */
import type dgram from 'node:dgram';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Registry } from 'prom-client';
import { nodeIP, nodeOrdinal, podSubnet, type ClusterConfig } from '../dataplane/base/cluster-config.js';
import type { EventRecorder } from '../dataplane/base/admission/events.js';
import { realClock, type Clock, type ClockTimer } from '../dataplane/base/clock.js';
import type { InformerFactory } from '../dataplane/base/informer/informer-types.js';
import { createLogger, type Logger } from '../dataplane/base/log.js';
import { tcpFastPathUnavailable } from '../dataplane/base/net/tcp-fast-path.js';
import { addressGuard } from './address-guard.js';
import { BindErrorEvents } from './bind-events.js';
import { EndpointChooser } from './endpoint-choice.js';
import { desiredListeners, portsWithoutEndpoints, type ListenerProblem, type ListenerSpec } from './frontends.js';
import { healthCheckResponse, localReadyEndpoints } from './health-check.js';
import { ListenerSet } from './listener-set.js';
import { ProxyMetrics } from './metrics.js';
import { startStatusServer, type StatusServer } from './status-server.js';
import { buildServiceTable, endpointId, type ServicePortInfo, type ServiceTable } from './service-table.js';
import { DEFAULT_CONNECT_TIMEOUTS_MS, DEFAULT_HANG_HOLD_MS, TcpForwarder } from './tcp-forwarder.js';
import type { NodeAddress } from './traffic-source.js';
import { UdpForwarder } from './udp-forwarder.js';
import { DEFAULT_UDP_IDLE_TIMEOUT_MS } from '../dataplane/base/net/udp-flow.js';
import { LABEL_TOPOLOGY_ZONE } from '../dataplane/base/model/well-known.js';
import { PolicyWorld } from '../dataplane/base/netpol/policy-world.js';
import { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import { systemPeers } from '../dataplane/base/netpol/system-peers.js';
import { slicesLookup } from '../dataplane/base/informer/indexes.js';

export interface ProxyNode {
  name: string;
  ip: string;
  podCIDR: string;
}

export interface ProxyOptions {
  informers: InformerFactory;
  config: ClusterConfig;
  /** The nodes this process serves: their IPs get the nodePort and health check listeners. */
  nodes: ProxyNode[];
  /** Every node of the cluster, to tell pods and nodes of other machines from outsiders. Default: Node objects plus `nodes`. */
  allNodes?: () => ProxyNode[];
  log?: Logger;
  /** Idle timeout of a UDP session (conntrack's default is 30 s). */
  udpIdleTimeoutMs?: number;
  /** Connect timeouts of the successive attempts; their count is the attempt limit. */
  connectTimeoutsMs?: readonly number[];
  /** How long a connection with no local endpoint is held before it is dropped. */
  hangHoldMs?: number;
  /** How soon a listener that failed to bind is tried again. */
  bindRetryMs?: number;
  /** A full sync also runs this often (kube-proxy's --sync-period), to reap idle affinity records. */
  syncPeriodMs?: number;
  /** "HOST:PORT" for Prometheus /metrics (kube-proxy: node IP :10249). Off when unset. */
  metricsBindAddress?: string;
  /** "HOST:PORT" for /healthz and /livez (kube-proxy: node IP :10256). Off when unset. */
  healthzBindAddress?: string;
  /** Where listeners that cannot be bound are reported, as Warning events on their Service. */
  events?: EventRecorder;
  /** false: forwarded TCP bytes go through net's public API only (default: its native handles when this Node has the expected shape, tcp-fast-path.ts). */
  nativeSockets?: boolean;
  /** Time for affinity records, UDP session idle timeouts, the hang hold and bind retries (real time; tests pass a fake clock). */
  clock?: Clock;
}

export interface ListenerInfo {
  address: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  /** "ns/name" */
  service: string;
  role: ListenerSpec['role'];
  /** The service port key ("ns/name:port/TCP"); "ns/name" for a health check. */
  servicePort: string;
}

export interface BindErrorInfo {
  service: string;
  address: string;
  port: number;
  protocol: string;
  error: string;
}

export interface ProxyHandle {
  close(): Promise<void>;
  metrics: Registry;
  listeners(): ListenerInfo[];
  bindErrors(): BindErrorInfo[];
  /** The current service table (endpoints in use), for `knet get svc -o wide` and debugging. */
  services(): ServicePortInfo[];
  /** Runs a sync now instead of once the current batch of events is delivered; resolves when listeners have settled binding. */
  sync(): Promise<void>;
}

export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const log = opts.log ?? createLogger('proxy');
  const metrics = new ProxyMetrics();
  const chooser = new EndpointChooser();
  const bindRetryMs = opts.bindRetryMs ?? 5_000;
  const clock = opts.clock ?? realClock;
  const services = opts.informers.informer<Service>('Service');
  const slices = opts.informers.informer<EndpointSlice>('EndpointSlice');
  const slicesOf = slicesLookup(slices);
  const nodeInformer = opts.informers.informer<Node>('Node');
  // NetworkPolicy before connecting to an endpoint (tcp-forwarder.ts, udp-forwarder.ts).
  const netpol = new PolicyEnforcer(new PolicyWorld(opts.informers, { systemPeers: systemPeers(opts.config) }), 'proxy', log, metrics.registry);

  const tcp = new TcpForwarder({
    chooser,
    metrics,
    log,
    connectTimeoutsMs: opts.connectTimeoutsMs ?? DEFAULT_CONNECT_TIMEOUTS_MS,
    hangHoldMs: opts.hangHoldMs ?? DEFAULT_HANG_HOLD_MS,
    nativeSockets: opts.nativeSockets ?? true,
    clock,
    netpol,
  });
  const udp = new UdpForwarder({ chooser, metrics, log, idleTimeoutMs: opts.udpIdleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS, clock, netpol });

  let table: ServiceTable = new Map();
  let problems: ListenerProblem[] = [];
  /** Service ports whose listeners are closed for want of an endpoint (logged as it changes). */
  let unserved = new Set<string>();
  let closed = false;
  let lastSync = new Date();
  let scheduled = false;
  let retryTimer: ClockTimer | undefined;
  const servedNodes = (): NodeAddress[] => opts.nodes.map((n) => withZone(n, opts.config));
  const refuse = addressGuard(opts.config);
  /** Refused addresses already logged, so a standing refusal is logged once, not on every sync. */
  let refusedLogged = new Set<string>();
  const bindEvents = opts.events
    ? new BindErrorEvents(opts.events, (nsName) => {
        const [ns, name] = nsName.split('/');
        return services.get(ns, name ?? '');
      })
    : undefined;

  const listenerSet = new ListenerSet(
    {
      acceptTcp: (socket, spec) => tcp.accept(socket, spec),
      acceptFailed: (spec, err) => tcp.acceptFailed(spec, err),
      attachUdp: (socket: dgram.Socket, spec) => udp.attach(socket, spec),
      detachUdp: (socket: dgram.Socket) => udp.detach(socket),
      healthCheck: (spec) => healthCheckResponse(spec.service, localReadyEndpoints(table, spec.service, spec.node ?? '')),
      bindSettled: () => {
        refreshListenerMetrics();
        scheduleRetry();
      },
    },
    log,
  );

  function allNodes(): NodeAddress[] {
    const list = opts.allNodes ? opts.allNodes() : nodeInformer.list().map((n) => nodeAddress(n, opts.config));
    return list.filter((n): n is ProxyNode => !!n).map((n) => withZone(n, opts.config));
  }

  function sync(): void {
    scheduled = false;
    if (closed) return;
    const end = metrics.syncDuration.startTimer();
    const now = clock.now();
    table = buildServiceTable(services.list(), slicesOf);
    const served = servedNodes();
    chooser.update(table, allNodes(), served, now);
    const desired = desiredListeners(table, served, refuse);
    problems = desired.problems;
    logRefusals();
    listenerSet.reconcile(desired.listeners, now, bindRetryMs);
    unserved = logServingChanges(unserved, portsWithoutEndpoints(table));
    // UDP conntrack entries of departed endpoints are flushed; TCP flows are left to finish.
    udp.prune((key, ep) => !!table.get(key)?.endpoints.some((e) => endpointId(e) === ep));
    tcp.retryHung();
    refreshListenerMetrics();
    scheduleRetry();
    lastSync = new Date();
    end();
  }

  function logRefusals(): void {
    const now = new Set<string>();
    for (const p of problems) {
      if (!p.refused) continue;
      const key = `${p.spec.id} ${p.spec.service}`;
      now.add(key);
      if (!refusedLogged.has(key)) log.warn('refused a Service address', { service: p.spec.service, address: p.spec.address, port: p.spec.port, error: p.error });
    }
    refusedLogged = now;
  }

  /**
   * A closed listener is a "connection refused" for every client: say when a service port
   * loses its last usable endpoint and when it has one again, with what its slices hold.
   */
  function logServingChanges(before: Set<string>, now: Set<string>): Set<string> {
    for (const key of now) {
      if (before.has(key)) continue;
      const eps = table.get(key)?.endpoints ?? [];
      log.info('no usable endpoint: listeners closed, clients get connection refused', {
        service: key,
        endpoints: eps.length,
        notReady: eps.filter((e) => !e.ready && !e.terminating).length,
        terminatingNotServing: eps.filter((e) => e.terminating && !e.serving).length,
      });
    }
    for (const key of before) if (!now.has(key) && table.has(key)) log.info('usable endpoint again: listeners reopen', { service: key });
    return now;
  }

  function scheduleSync(): void {
    if (closed || scheduled) return;
    scheduled = true;
    // A microtask, not setImmediate: the informer delivers a whole watch batch synchronously,
    // so this still costs one sync per batch, and it runs before the event loop polls again —
    // a connection accepted after the change was read already sees it (with setImmediate the
    // poll phase came first and such a connection took the old route).
    queueMicrotask(() => {
      if (scheduled) sync();
    });
  }

  function scheduleRetry(): void {
    if (closed || retryTimer || listenerSet.failures().length === 0) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      scheduleSync();
    }, bindRetryMs);
  }

  function refreshListenerMetrics(): void {
    metrics.listeners.reset();
    for (const l of listenerSet.bound()) metrics.listeners.inc({ protocol: l.protocol, role: l.role });
    const failures = [...listenerSet.failures(), ...problems];
    metrics.bindErrors.set(failures.length);
    bindEvents?.update(
      failures.map(({ spec, error }) => ({ id: spec.id, service: spec.service, error })),
      listenerSet.binding(),
    );
  }

  const onChange = { add: scheduleSync, update: scheduleSync, delete: scheduleSync };
  // Node status changes with every heartbeat; only its address, pod range and zone matter here.
  const onNodeChange = {
    ...onChange,
    update: (oldNode: Node, newNode: Node) => {
      if (JSON.stringify(nodeAddress(oldNode, opts.config)) !== JSON.stringify(nodeAddress(newNode, opts.config))) scheduleSync();
    },
  };
  const unsubscribe = [services.on(onChange), slices.on(onChange), ...(opts.allNodes ? [] : [nodeInformer.on(onNodeChange)]), netpol.world.onChange(() => tcp.recheckDenied())];
  await opts.informers.waitForSync();
  sync();
  await listenerSet.settled();
  const periodic = setInterval(scheduleSync, opts.syncPeriodMs ?? 30_000);

  const status: StatusServer[] = [];
  if (opts.metricsBindAddress) {
    status.push(
      await startStatusServer(opts.metricsBindAddress, {
        '/metrics': async () => ({ status: 200, contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      }),
    );
  }
  if (opts.healthzBindAddress) {
    const healthz = async () => ({
      status: closed ? 503 : 200,
      contentType: 'application/json',
      body: JSON.stringify({ lastUpdated: lastSync.toISOString(), currentTime: new Date().toISOString(), nodeEligible: true }),
    });
    status.push(await startStatusServer(opts.healthzBindAddress, { '/healthz': healthz, '/livez': healthz }));
  }
  for (const s of status) if (s.error) log.warn('status endpoint not bound', { address: s.address, port: s.port, error: s.error });

  // Which byte path TCP connections take (tcp-fast-path.ts): said once, so a Node whose
  // internals changed shows as a warning rather than only as a slower proxy.
  const tcpFallback = opts.nativeSockets === false ? 'nativeSockets: false' : tcpFastPathUnavailable();
  log.info('proxy started', {
    nodes: opts.nodes.map((n) => n.name),
    servicePorts: table.size,
    listeners: listenerSet.bound().length,
    tcpFastPath: tcpFallback ? `public API (${tcpFallback})` : 'native handles',
  });
  if (opts.nativeSockets !== false && tcpFallback) log.warn(`TCP fast path unavailable on Node ${process.version} (${tcpFallback}): forwarding through net's public API, slower`);

  return {
    metrics: metrics.registry,
    listeners: () =>
      listenerSet.bound().map((l) => ({ address: l.address, port: l.port, protocol: l.protocol, service: l.service, role: l.role, servicePort: l.serviceKey })),
    bindErrors: () => [
      ...[...listenerSet.failures(), ...problems].map(({ spec, error }) => ({ service: spec.service, address: spec.address, port: spec.port, protocol: spec.protocol, error })),
      ...status.filter((s) => s.error).map((s) => ({ service: '', address: s.address, port: s.port, protocol: 'TCP', error: s.error! })),
    ],
    services: () => [...table.values()],
    async sync() {
      sync();
      await listenerSet.settled();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe) u();
      scheduled = false;
      clock.clearTimeout(retryTimer);
      clearInterval(periodic);
      const closing = listenerSet.closeAll();
      tcp.destroyAll();
      udp.destroyAll();
      await Promise.all([closing, ...status.map((s) => s.close())]);
      log.info('proxy stopped');
    },
  };
}

function withZone(n: ProxyNode & { zone?: string }, config: ClusterConfig): NodeAddress {
  const zone = n.zone ?? config.zones?.[n.name];
  return zone ? { name: n.name, ip: n.ip, podCIDR: n.podCIDR, zone } : { name: n.name, ip: n.ip, podCIDR: n.podCIDR };
}

/** A Node object's address, pod CIDR and zone; the address plan fills what the object lacks. */
function nodeAddress(node: Node, config: ClusterConfig): (ProxyNode & { zone?: string }) | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const ordinal = nodeOrdinal(name);
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? (ordinal ? nodeIP(config, ordinal) : undefined);
  const podCIDR = node.spec?.podCIDR ?? (ordinal ? podSubnet(config, ordinal) : '');
  if (!ip) return undefined;
  const zone = node.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
  return zone ? { name, ip, podCIDR, zone } : { name, ip, podCIDR };
}
