/**
 * `knet dns`: the cluster DNS server. Wires the record index (informers), the query engine
 * (answer core + response cache + forwarding) and the UDP/TCP sockets, and owns their
 * lifecycle. Serves the cluster zone and the reverse zones on config.dnsServiceIP:dnsPort,
 * falling back to another port of the same address when port 53 needs privilege.
 */
import type { Registry } from 'prom-client';
import type { ClusterConfig } from '../dataplane/base/cluster-config.js';
import type { InformerFactory } from '../dataplane/base/informer/informer-types.js';
import { createLogger, type Logger } from '../dataplane/base/log.js';
import { plainIp } from '../dataplane/base/net/ip.js';
import { PolicyWorld } from '../dataplane/base/netpol/policy-world.js';
import { PolicyEnforcer } from '../dataplane/base/netpol/enforcer.js';
import { SilentHold } from '../dataplane/base/netpol/silent-hold.js';
import { systemPeers } from '../dataplane/base/netpol/system-peers.js';
import { DnsStats, type DnsStatsSnapshot } from './dns-stats.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, Forwarder } from './forwarder.js';
import { bindWithFallback, DEFAULT_FALLBACK_PORT, hostPort, type BindFn } from './listen.js';
import { createDnsMetrics } from './metrics.js';
import { serveMetrics, type MetricsEndpoint } from './metrics-endpoint.js';
import { QueryEngine } from './query-engine.js';
import { RecordIndex } from './record-index.js';
import type { PodMode } from './service-lookup.js';
import { serveTcp, DEFAULT_TCP_TIMEOUTS, type TcpTimeouts } from './tcp-listener.js';
import { serveUdp } from './udp-listener.js';
import { resolveUpstream } from './upstream-config.js';

export interface DnsServerOptions {
  informers: InformerFactory;
  config: ClusterConfig;
  log?: Logger;
  /** Default config.dnsServiceIP. */
  address?: string;
  /** Default config.dnsPort (53). */
  port?: number;
  /** Used when `port` fails with EACCES; default 5353. */
  fallbackPort?: number;
  /** "host[:port]" of the upstream resolver; null = no forwarding (REFUSED); default /etc/resolv.conf. */
  upstream?: string | null;
  /** Print one CoreDNS-style line per query. */
  logQueries?: boolean;
  /** Where query lines go (default stdout). */
  queryLog?: (line: string) => void;
  forwardTimeoutMs?: number;
  /** Pod A records: kubeadm's `pods insecure` by default. */
  podMode?: PodMode;
  /** Encoded responses kept; default 20000. */
  cacheSize?: number;
  /** Shuffle A/AAAA records per response (kubeadm's `loadbalance`); default true. */
  shuffle?: boolean;
  /** Path read for the default upstream. */
  resolvConf?: string;
  tcpTimeouts?: TcpTimeouts;
  /** For tests: replaces the socket binding (e.g. to simulate EACCES). */
  bind?: BindFn;
  /** Serve Prometheus /metrics on address:metricsPort (CoreDNS's `prometheus :9153`); off when unset. */
  metricsPort?: number;
}

export interface DnsServerHandle {
  /** The address served. */
  address: string;
  /** The port actually served (the fallback port if port 53 was not allowed). */
  port: number;
  /** "host:port" names outside the zone go to, or undefined when forwarding is off. */
  upstream: string | undefined;
  metrics: Registry;
  /** The port /metrics is served on (undefined: not asked for, or not bindable). */
  metricsPort: number | undefined;
  stats(): DnsStatsSnapshot;
  /** The index answers come from (tests wait on its changes). */
  index: RecordIndex;
  close(): Promise<void>;
}

export async function startDns(opts: DnsServerOptions): Promise<DnsServerHandle> {
  const log = opts.log ?? createLogger('dns');
  const address = opts.address ?? opts.config.dnsServiceIP;
  const wantPort = opts.port ?? opts.config.dnsPort;
  const index = new RecordIndex(opts.informers);
  const { upstream, reason } = resolveUpstream(opts.upstream, { address, port: wantPort }, opts.resolvConf);
  const forwarder = upstream
    ? new Forwarder({ ...upstream, timeoutMs: opts.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS, log })
    : undefined;
  const stats = new DnsStats();
  const engine = new QueryEngine({
    view: index,
    answerConfig: {
      clusterDomain: opts.config.clusterDomain,
      ttl: opts.config.dnsTTL ?? 30,
      podMode: opts.podMode ?? 'insecure',
      nsAddress: address,
      forwarding: forwarder !== undefined,
    },
    stats,
    ...(forwarder ? { upstream: forwarder } : {}),
    ...(opts.cacheSize !== undefined ? { cacheSize: opts.cacheSize } : {}),
    shuffle: opts.shuffle ?? true,
    ...(opts.logQueries ? { queryLog: opts.queryLog ?? ((line: string) => process.stdout.write(line + '\n')) } : {}),
  });

  let sockets;
  try {
    sockets = await bindWithFallback(address, wantPort, opts.fallbackPort ?? DEFAULT_FALLBACK_PORT, log, opts.bind);
  } catch (err) {
    index.close();
    await forwarder?.close();
    throw err;
  }
  const { udp, tcp, port } = sockets;
  const metrics = createDnsMetrics(stats, () => engine.cache.size);
  // NetworkPolicy: a query is the client's egress to CoreDNS's pod (kube-system, k8s-app=kube-dns)
  // at the kube-dns ClusterIP, port 53 whatever port is served (base/netpol/system-peers.ts).
  const enforcer = new PolicyEnforcer(new PolicyWorld(opts.informers, { systemPeers: systemPeers(opts.config) }), 'dns', log, metrics);
  const dnsIP = opts.config.dnsServiceIP;
  const udpPath = serveUdp(udp, engine, log, (ip) => enforcer.allows(plainIp(ip), dnsIP, 53, 'UDP'));
  const tcpConns = serveTcp(tcp, engine, log, opts.tcpTimeouts ?? DEFAULT_TCP_TIMEOUTS, { admits: (ip) => enforcer.allows(plainIp(ip), dnsIP, 53, 'TCP'), hold: new SilentHold() });
  let metricsEndpoint: MetricsEndpoint | undefined;
  if (opts.metricsPort !== undefined) metricsEndpoint = await serveMetrics(address, opts.metricsPort, metrics, log);
  const upstreamText = forwarder?.target;
  log.info(`serving DNS for ${opts.config.clusterDomain} on ${hostPort(address, port)} (udp+tcp)`, {
    address,
    port,
    upstream: upstreamText ?? null,
    upstreamSource: reason,
    metricsPort: metricsEndpoint?.port ?? null,
    udpFastPath: udpPath.fast ? 'native handle' : `public API (${udpPath.fallback})`,
  });
  if (!udpPath.fast) log.warn(`UDP fast path unavailable on Node ${process.version} (${udpPath.fallback}): answering through node:dgram's public API, slower`);

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    upstream: upstreamText,
    metrics,
    metricsPort: metricsEndpoint?.port,
    index,
    stats: () => stats.snapshot(engine.cache.size),
    close() {
      closing ??= (async () => {
        index.close();
        tcpConns.closeConnections();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
          forwarder?.close(),
          metricsEndpoint?.close(),
        ]);
        engine.cache.clear();
      })();
      return closing;
    },
  };
}
