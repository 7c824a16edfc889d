/**
 * The sockets behind the desired listeners: diff, bind what is new, close what is gone,
 * update in place what only changed meaning (so established connections and UDP sessions of
 * ports that still exist never notice a service edit).
 *
 * Closing a TCP listener stops accepting but leaves accepted connections alone: established
 * flows outlive a removed service as conntrack entries do. A bind that fails is kept as a
 * failure (bindErrors) and retried after retryAfterMs; everything else keeps serving.
 */
import dgram from 'node:dgram';
import type http from 'node:http';
import net from 'node:net';
import type { Logger } from '../dataplane/base/log.js';
import { listenBacklog } from '../dataplane/base/net/listen-backlog.js';
import { describeBindError } from '../dataplane/base/net/bind-error.js';
import type { ListenerSpec } from './frontends.js';
import type { HealthCheckResponse } from './health-check.js';
import { createHealthCheckServer } from './health-check-server.js';

export interface ListenerHandlers {
  acceptTcp(socket: net.Socket, spec: ListenerSpec): void;
  /** accept() failed on a bound TCP listener (EMFILE, ENFILE, …). */
  acceptFailed(spec: ListenerSpec, err: NodeJS.ErrnoException): void;
  attachUdp(socket: dgram.Socket, spec: () => ListenerSpec): void;
  detachUdp(socket: dgram.Socket): void;
  healthCheck(spec: ListenerSpec): HealthCheckResponse;
  /** A bind finished (either way): the proxier refreshes metrics and schedules retries. */
  bindSettled(): void;
}

interface Held {
  spec: ListenerSpec;
  state: 'binding' | 'bound' | 'failed';
  error?: string;
  lastAttemptMs: number;
  /** Set when the listener is no longer wanted; a bind still in flight closes on completion. */
  closing: boolean;
  close: () => Promise<void>;
  /** Resolves once the bind has succeeded or failed. */
  settled: Promise<void>;
  settle: () => void;
}

export interface BindFailure {
  spec: ListenerSpec;
  error: string;
}

export class ListenerSet {
  private readonly held = new Map<string, Held>();
  private readonly closingAll = new Set<Promise<void>>();

  constructor(
    private readonly handlers: ListenerHandlers,
    private readonly log: Logger,
  ) {}

  reconcile(desired: readonly ListenerSpec[], nowMs: number, retryAfterMs: number): void {
    const want = new Map(desired.map((s) => [s.id, s] as const));
    for (const [id, h] of this.held) {
      if (want.has(id)) continue;
      this.held.delete(id);
      this.track(h.close());
    }
    for (const spec of desired) {
      const h = this.held.get(spec.id);
      if (!h) {
        this.open(spec, nowMs);
        continue;
      }
      // Same socket, maybe new meaning (service port, announcing node): swap the spec in place.
      h.spec = spec;
      if (h.state === 'failed' && nowMs - h.lastAttemptMs >= retryAfterMs) {
        this.held.delete(spec.id);
        this.open(spec, nowMs);
      }
    }
  }

  bound(): ListenerSpec[] {
    return [...this.held.values()].filter((h) => h.state === 'bound').map((h) => h.spec);
  }

  /** Ids of listeners whose bind is in flight (a retry of a failed one, or a new one). */
  binding(): Set<string> {
    return new Set([...this.held.values()].filter((h) => h.state === 'binding').map((h) => h.spec.id));
  }

  failures(): BindFailure[] {
    return [...this.held.values()].filter((h) => h.state === 'failed').map((h) => ({ spec: h.spec, error: h.error ?? 'bind failed' }));
  }

  /** Resolves once no listener is still binding. */
  async settled(): Promise<void> {
    await Promise.all([...this.held.values()].map((h) => h.settled));
  }

  async closeAll(): Promise<void> {
    for (const h of this.held.values()) this.track(h.close());
    this.held.clear();
    await Promise.all([...this.closingAll]);
  }

  private track(p: Promise<void>): void {
    this.closingAll.add(p);
    void p.finally(() => this.closingAll.delete(p));
  }

  private open(spec: ListenerSpec, nowMs: number): void {
    if (spec.role === 'healthCheck') this.openHealthCheck(spec, nowMs);
    else if (spec.protocol === 'UDP') this.openUdp(spec, nowMs);
    else this.openTcp(spec, nowMs);
  }

  private newHeld(spec: ListenerSpec, nowMs: number, close: () => Promise<void>): Held {
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const h: Held = { spec, state: 'binding', lastAttemptMs: nowMs, closing: false, close, settled, settle };
    this.held.set(spec.id, h);
    return h;
  }

  private failed(h: Held, err: NodeJS.ErrnoException): void {
    h.state = 'failed';
    h.error = describeBindError(err, h.spec.protocol, h.spec.address, h.spec.port);
    h.settle();
    if (h.closing) return;
    this.log.warn('listener not bound', { service: h.spec.service, role: h.spec.role, address: h.spec.address, port: h.spec.port, protocol: h.spec.protocol, error: h.error });
    this.handlers.bindSettled();
  }

  private openTcp(spec: ListenerSpec, nowMs: number): void {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.handlers.acceptTcp(socket, h.spec));
    const h = this.newHeld(spec, nowMs, () => closeServer(h, server));
    this.listen(h, server);
  }

  private openHealthCheck(spec: ListenerSpec, nowMs: number): void {
    const server = createHealthCheckServer(() => this.handlers.healthCheck(h.spec));
    const h = this.newHeld(spec, nowMs, () => {
      server.closeAllConnections();
      return closeServer(h, server);
    });
    this.listen(h, server);
  }

  private listen(h: Held, server: net.Server | http.Server): void {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (h.state !== 'binding') return;
      this.failed(h, err);
    });
    server.listen({ host: h.spec.address, port: h.spec.port, exclusive: true, backlog: listenBacklog() }, () => {
      h.state = 'bound';
      h.settle();
      if (h.closing) return;
      server.on('error', (err: NodeJS.ErrnoException) => {
        if (err.syscall === 'accept' && h.spec.role !== 'healthCheck') this.handlers.acceptFailed(h.spec, err);
        else this.log.warn('listener error', { listener: h.spec.id, error: err });
      });
      this.handlers.bindSettled();
    });
  }

  private openUdp(spec: ListenerSpec, nowMs: number): void {
    const socket = dgram.createSocket({ type: 'udp4' });
    const h = this.newHeld(spec, nowMs, async () => {
      h.closing = true;
      await h.settled;
      if (h.state !== 'bound') return;
      this.handlers.detachUdp(socket);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (h.state !== 'binding') return;
      this.failed(h, err);
      socket.close();
    });
    socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
      h.state = 'bound';
      h.settle();
      if (h.closing) return;
      socket.on('error', (err) => this.log.warn('listener error', { listener: h.spec.id, error: err }));
      this.handlers.attachUdp(socket, () => h.spec);
      this.handlers.bindSettled();
    });
  }
}

/** Stops accepting; resolves once every connection it accepted has gone too. */
async function closeServer(h: Held, server: net.Server): Promise<void> {
  h.closing = true;
  await h.settled;
  if (h.state !== 'bound') return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
