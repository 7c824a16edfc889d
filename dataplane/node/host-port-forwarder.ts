/**
 * The node agent's host ports: the sockets behind host-ports.ts's plan. `sync()` plans from the
 * pods the agent runs (called when one starts, stops or finishes), binds the listeners that are
 * new, closes those no longer planned, and points a listener whose forward changed pod at the new
 * one in place. What arrives is host-port-traffic.ts's.
 *
 * A pod runs whatever happens to its host ports, as a kind node's pod would (portmap has no
 * socket to fail: its DNAT simply takes the packets). knet cannot take a port another program
 * holds, so a bind that fails — the port taken, a port below 1024 without privilege — is a
 * Warning event `FailedToBindHostPort` on the pod (the address, why, the fix:
 * base/net/bind-error.ts) and a warn log line, and is tried again every `bindRetryMs`. A mapping
 * the plan refuses (a hostIP that is not this node's, SCTP, a port already forwarded to another
 * pod) gets the same event with its reason, and is never bound. Each is reported once while it
 * stands (again if it clears and comes back).
 *
 * Counted on the node agent's /metrics, per pod and host port:
 * `knet_hostport_connections_total{pod,host_ip,host_port,protocol,container_port}` (TCP
 * connections and UDP flows forwarded to the pod) and `knet_hostport_bytes_total{…,direction}`;
 * a forward's series go with it.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Counter, type Registry } from 'prom-client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock, type ClockTimer } from '../base/clock.js';
import type { EventRecorder } from '../base/admission/events.js';
import type { KObject } from '../base/model/object.js';
import type { Logger } from '../base/log.js';
import { describeBindError } from '../base/net/bind-error.js';
import { listenBacklog } from '../base/net/listen-backlog.js';
import { DEFAULT_UDP_IDLE_TIMEOUT_MS } from '../base/net/udp-flow.js';
import type { PodNetpol } from './runtime/pod-ingress.js';
import { planHostPorts, type HostPortForward, type HostPortNode, type HostPortPod, type HostPortProblem } from './host-ports.js';
import { HostPortTraffic, type HostPortTally } from './host-port-traffic.js';

export const HOST_PORT_FAILED_REASON = 'FailedToBindHostPort';
export const DEFAULT_BIND_RETRY_MS = 5_000;

export interface HostPortForwarderOptions {
  node: HostPortNode;
  /** The pods the agent runs, in the order it started them (not those finished or stopped). */
  pods(): HostPortPod[];
  log: Logger;
  events: EventRecorder;
  /** The node agent's /metrics registry. */
  registry: Registry;
  netpol?: PodNetpol;
  /** Bind retries and UDP idle timers (tests pass a fake one). */
  clock?: Clock;
  /** How long a failed bind waits to be tried again (the proxy's bindRetryMs, 5 s). */
  bindRetryMs?: number;
  /** A UDP flow's idle timeout (conntrack's, 30 s). */
  udpIdleTimeoutMs?: number;
}

interface Listener {
  /** What it forwards now (swapped in place when another pod takes the port). */
  forward: HostPortForward;
  state: 'binding' | 'bound' | 'failed';
  /** Why the bind failed, with the fix. */
  error?: string;
  retry?: ClockTimer;
  close(): Promise<void>;
}

interface Tally extends HostPortTally {
  labels: { pod: string; host_ip: string; host_port: string; protocol: string; container_port: string };
}

export class HostPortForwarder {
  private readonly listeners = new Map<string, Listener>();
  private readonly closing = new Set<Promise<void>>();
  private readonly traffic: HostPortTraffic;
  private readonly clock: Clock;
  private readonly tallies = new Map<string, Tally>();
  /** The forwards planned now (tallyKey): a connection of one gone meanwhile (held, then allowed) is not counted. */
  private live = new Set<string>();
  /** The pods and the plan's refusals as of the last sync. */
  private podsByUid = new Map<string, Pod>();
  private problems: HostPortProblem[] = [];
  /** Failures reported as events: "uid mapping" → message. */
  private readonly reported = new Map<string, string>();
  private closed = false;

  constructor(private readonly o: HostPortForwarderOptions) {
    this.clock = o.clock ?? realClock;
    this.traffic = new HostPortTraffic({
      node: o.node,
      netpol: o.netpol,
      log: o.log,
      clock: this.clock,
      udpIdleTimeoutMs: o.udpIdleTimeoutMs ?? DEFAULT_UDP_IDLE_TIMEOUT_MS,
      tally: (f) => this.tally(f),
    });
    this.registerMetrics(o.registry);
  }

  /** Brings the listeners to what the pods ask for now. */
  sync(): void {
    if (this.closed) return;
    const pods = this.o.pods();
    this.podsByUid = new Map(pods.map((p) => [p.pod.metadata?.uid ?? '', p.pod]));
    const plan = planHostPorts(pods, this.o.node);
    this.problems = plan.problems;
    const want = new Map(plan.forwards.map((f) => [f.id, f] as const));
    for (const [id, l] of this.listeners) {
      if (want.has(id)) continue;
      this.listeners.delete(id);
      this.track(l.close());
      this.o.log.info('host port closed', { listener: id, pod: l.forward.pod });
    }
    for (const f of plan.forwards) {
      const l = this.listeners.get(f.id);
      if (!l) this.open(f);
      else if (l.forward.uid !== f.uid || l.forward.podIP !== f.podIP || l.forward.containerPort !== f.containerPort) l.forward = f;
    }
    this.live = new Set(plan.forwards.map(tallyKey));
    for (const key of this.tallies.keys()) if (!this.live.has(key)) this.tallies.delete(key);
    this.report();
  }

  /** Whether `ip:port` is a host port of this node (bound, or binding), either protocol. */
  forwarded(ip: string, port: number): boolean {
    const live = (id: string) => {
      const l = this.listeners.get(id);
      return l !== undefined && l.state !== 'failed';
    };
    return live(`TCP/${ip}:${port}`) || live(`UDP/${ip}:${port}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.listeners.values()) this.track(l.close());
    this.listeners.clear();
    this.traffic.closeAll();
    await Promise.all([...this.closing]);
  }

  private open(forward: HostPortForward): void {
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    let closeSocket: () => Promise<void> = async () => {};
    const l: Listener = {
      forward,
      state: 'binding',
      // A bound socket closes at once (its port is free for the next bind); one still binding once it settles.
      close: () => {
        this.clock.clearTimeout(l.retry);
        if (l.state === 'bound') return closeSocket();
        return settled.then(() => (l.state === 'bound' ? closeSocket() : undefined));
      },
    };
    this.listeners.set(forward.id, l);
    const done = (err?: NodeJS.ErrnoException) => {
      l.state = err ? 'failed' : 'bound';
      settle();
      if (this.listeners.get(forward.id) !== l) return;
      if (err) this.failed(l, err);
      else this.o.log.info('host port forwarded', { listener: forward.id, pod: l.forward.pod, to: `${l.forward.podIP}:${l.forward.containerPort}` });
      this.report();
    };
    closeSocket = forward.protocol === 'UDP' ? this.bindUdp(l, done) : this.bindTcp(l, done);
  }

  private bindTcp(l: Listener, done: (err?: NodeJS.ErrnoException) => void): () => Promise<void> {
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true }, (socket) => this.traffic.acceptTcp(socket, l.forward));
    server.once('error', (err: NodeJS.ErrnoException) => done(err));
    server.listen({ host: l.forward.hostIP, port: l.forward.hostPort, exclusive: true, backlog: listenBacklog() }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => this.o.log.warn('host port listener error', { listener: l.forward.id, error: err }));
      done();
    });
    // Closing stops accepting; accepted connections stay until the pod or the client ends them.
    return () => new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private bindUdp(l: Listener, done: (err?: NodeJS.ErrnoException) => void): () => Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4' });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.close();
      done(err);
    });
    socket.bind({ address: l.forward.hostIP, port: l.forward.hostPort, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', (err) => this.o.log.warn('host port listener error', { listener: l.forward.id, error: err }));
      this.traffic.attachUdp(socket, () => l.forward);
      done();
    });
    return () =>
      new Promise<void>((resolve) => {
        this.traffic.detachUdp(socket);
        socket.close(() => resolve());
      });
  }

  /** A failed bind: reported, and tried again after bindRetryMs while it is still wanted. */
  private failed(l: Listener, err: NodeJS.ErrnoException): void {
    const f = l.forward;
    l.error = describeBindError(err, f.protocol, f.hostIP, f.hostPort);
    l.retry = this.clock.setTimeout(() => {
      if (this.closed || this.listeners.get(f.id) !== l) return;
      this.listeners.delete(f.id);
      this.open(l.forward);
    }, this.o.bindRetryMs ?? DEFAULT_BIND_RETRY_MS);
    l.retry.unref();
  }

  /** Warning events for the failures standing now that were not reported yet (logged too). */
  private report(): void {
    const standing = new Map<string, { pod: string; uid: string; mapping: string; message: string }>();
    for (const p of this.problems) standing.set(`${p.uid} ${p.mapping}`, p);
    for (const l of this.listeners.values()) {
      const f = l.forward;
      if (l.state === 'failed') standing.set(`${f.uid} ${f.id}`, { pod: f.pod, uid: f.uid, mapping: f.id, message: `host port ${f.hostPort}/${f.protocol} is not forwarded to ${f.podIP}:${f.containerPort}: ${l.error}` });
      // A retry in flight: its last report stands until it settles.
      else if (l.state === 'binding' && this.reported.has(`${f.uid} ${f.id}`)) standing.set(`${f.uid} ${f.id}`, { pod: f.pod, uid: f.uid, mapping: f.id, message: this.reported.get(`${f.uid} ${f.id}`)! });
    }
    for (const [key, p] of standing) {
      if (this.reported.get(key) === p.message) continue;
      this.reported.set(key, p.message);
      this.o.log.warn('host port not forwarded', { pod: p.pod, mapping: p.mapping, reason: p.message });
      const pod = this.podsByUid.get(p.uid);
      if (pod) this.o.events.record(pod as KObject, 'Warning', HOST_PORT_FAILED_REASON, p.message);
    }
    for (const key of this.reported.keys()) if (!standing.has(key)) this.reported.delete(key);
  }

  private tally(f: HostPortForward): HostPortTally {
    const key = tallyKey(f);
    let t = this.tallies.get(key);
    if (!t) {
      if (!this.live.has(key)) return { connections: 0, bytesIn: 0, bytesOut: 0 };
      const labels = { pod: f.pod, host_ip: f.hostIP, host_port: String(f.hostPort), protocol: f.protocol, container_port: String(f.containerPort) };
      this.tallies.set(key, (t = { labels, connections: 0, bytesIn: 0, bytesOut: 0 }));
    }
    return t;
  }

  /** Counters read from the tallies at scrape time: no prom-client call per connection. */
  private registerMetrics(registry: Registry): void {
    const tallies = this.tallies;
    new Counter({
      name: 'knet_hostport_connections_total',
      help: 'TCP connections and UDP flows a host port forwarded to its pod',
      labelNames: ['pod', 'host_ip', 'host_port', 'protocol', 'container_port'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of tallies.values()) this.inc(t.labels, t.connections);
      },
    });
    new Counter({
      name: 'knet_hostport_bytes_total',
      help: 'Bytes a host port forwarded, by direction (in: client to pod)',
      labelNames: ['pod', 'host_ip', 'host_port', 'protocol', 'container_port', 'direction'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of tallies.values()) {
          this.inc({ ...t.labels, direction: 'in' }, t.bytesIn);
          this.inc({ ...t.labels, direction: 'out' }, t.bytesOut);
        }
      },
    });
  }

  private track(p: Promise<void>): void {
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
  }
}

const tallyKey = (f: HostPortForward) => `${f.uid} ${f.id}`;
