/**
 * knet inside test suites: start a real cluster from a test, talk to it, break it, close it.
 *
 *   import { startCluster } from 'knet';
 *   await using cluster = await startCluster({ manifests: 'examples/quickstart' });
 *   const res = await cluster.fetch('http://web.default.svc.cluster.local/hostname');
 *
 * Every cluster gets its own address block, Redis and state dir, so test files can run in
 * parallel. It runs the same components and store as the command line — all in this process
 * by default (fastest), or one process each — and nothing is faked.
 *
 * Waiting is driven by the cluster's watch, not by polling, and a wait that cannot succeed
 * fails at once (a crash-looping pod, a Service port that cannot be bound) with an error that
 * names the object and the reason and quotes the last events and the pod's log tail.
 */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dns from 'node:dns';
import net from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, fetch as undiciFetch, type RequestInfo, type RequestInit, type Response } from 'undici';
import type { Service, Pod, Event, Node } from 'kubernetes-types/core/v1.js';
import type { Ingress } from 'kubernetes-types/networking/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startCluster as startClusterCore, type Cluster, type ClusterOptions } from './cluster/cluster.js';
import { parseManifestText, readManifestPaths, type ManifestDoc } from './api/manifests.js';
import { applyManifests, type ApplyResult } from './api/apply.js';
import { connectRedis } from './store/redis-connection.js';
import { ObjectStore } from './store/object-store.js';
import { ClusterDir } from './cluster/state-dir.js';
import { waitForReady, explain, podsOf, findFailures, notReadyError, describeFailures, SNAPSHOT_KINDS, type Snapshot } from './cluster/readiness.js';
import { waitUntil } from './cluster/wait-until.js';
import { StoreInformerFactory } from './store/watch.js';
import type { InformerHandler } from './informer-types.js';
import { KINDS, type KObject, type Kind } from './model/object.js';
import { matchesRequirements, parseSelector } from './model/selector.js';
import { nodeIP, type ClusterConfig } from './cluster-config.js';
import { FAULT_ANNOTATION } from './node/node-object.js';
import { resolveKind } from './cli/resources.js';
import { silentLogger, type Logger } from './log.js';

export type ManifestInput = string | KObject | Array<string | KObject>;

export interface StartClusterOptions {
  /** Manifests applied once the cluster is up: paths (files or directories), YAML text or objects. Waits until ready. */
  manifests?: ManifestInput;
  /** Number of nodes (2). */
  nodes?: number;
  /** Optional components to leave out, e.g. `{ ingress: false }` (all run by default). */
  components?: ClusterOptions['components'];
  /** 'single-process' (default: all components in this process) or 'processes' (one each, as `knet up`). */
  mode?: ClusterOptions['mode'];
  /** Settings to override (dnsPort, nodeGraceSeconds, zones…). */
  config?: Partial<ClusterConfig>;
  /** An explicit address block (1…65); otherwise the first free one, chosen safely across processes. */
  index?: number;
  /** The cluster's name (a DNS label); unique per process by default. */
  name?: string;
  /** Keep the state dir here instead of a fresh temp dir (not removed on close). */
  stateDir?: string;
  /** How long `manifests` (and apply()) may take to be ready (30 s). */
  readyTimeoutMs?: number;
  /** The kubelet's crash back-off base (10 s in Kubernetes); 100 ms here so crash loops show fast. */
  crashBackoffMs?: number;
  /** Fail a wait as soon as what it waits for cannot get ready on its own (true). */
  failFast?: boolean;
  /** Component logs (silent by default). */
  log?: Logger;
}

export interface Address {
  host: string;
  port: number;
}

export type ServiceAddressType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface WaitOptions {
  timeoutMs?: number;
  namespace?: string;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;

const DEFAULT_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 20;
let counter = 0;

export class KnetCluster implements AsyncDisposable {
  private ownInformers?: StoreInformerFactory;
  private agent?: Agent;
  private readonly lookupResolver: dns.promises.Resolver;
  private closing?: Promise<void>;

  /** @internal use startCluster() */
  constructor(
    private readonly cluster: Cluster,
    private readonly defaults: { timeoutMs: number; failFast: boolean; components: { proxy: boolean; dns: boolean; ingress: boolean }; tempDir?: string },
  ) {
    this.lookupResolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
    this.lookupResolver.setServers([`${this.dnsServer.host}:${this.dnsServer.port}`]);
  }

  get name(): string {
    return this.cluster.name;
  }
  /** The cluster's settings: its address block (node, pod, service, load-balancer ranges) and knobs. */
  get config(): ClusterConfig {
    return this.cluster.config;
  }
  /** The cluster's object store (the apiserver analog), for anything the helpers don't cover. */
  get store(): Cluster['store'] {
    return this.cluster.store;
  }
  get stateDir(): string {
    return this.cluster.dir.dir;
  }
  /** Milliseconds each start phase took (redis, bootstrap, each component, components, manifests) and close. */
  get timings(): Readonly<Record<string, number>> {
    return this.cluster.timings;
  }

  /** The processes behind the cluster: `redis` and each component (all this process's pid in single-process mode). */
  pids(): Record<string, number | undefined> {
    return this.cluster.pids();
  }

  /**
   * What another process needs to reach this cluster (plain JSON): hand it to connectCluster()
   * there, e.g. from a vitest globalSetup through `provide`/`inject`. It holds the Redis password.
   */
  get ref(): ClusterRef {
    return { name: this.name, stateDir: this.cluster.dir.stateDir, redisUrl: this.cluster.redisUrl, config: this.config, components: this.defaults.components, componentInfo: this.cluster.componentInfo() };
  }

  // ---- objects ------------------------------------------------------------------------------

  /**
   * Applies manifests (paths, YAML text, objects) all or nothing, as `knet apply` does, and
   * waits until what they describe is ready unless `wait: false`. An invalid manifest throws
   * ApplyError naming the document, the object, the field and the reason.
   */
  async apply(input: ManifestInput, opts: { wait?: boolean; timeoutMs?: number; failFast?: boolean } = {}): Promise<ApplyResult[]> {
    const since = Date.now();
    const results = await this.cluster.apply(toDocs(input));
    if (opts.wait !== false) await this.waitForReady(results.map((r) => r.object), { timeoutMs: opts.timeoutMs, failFast: opts.failFast, since });
    return results;
  }

  /**
   * Deletes by manifest (path, YAML, object) or by kind and name, as `knet delete` does
   * (dependents too). `wait: true` resolves once the objects are gone (pods after their grace period).
   */
  async delete(kindOrInput: string | KObject | Array<string | KObject>, name?: string, namespace = 'default', opts: { gracePeriodSeconds?: number; wait?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const targets: Array<{ kind: Kind; ns?: string; name: string }> = [];
    if (typeof kindOrInput === 'string' && name) {
      const kind = resolveKind(kindOrInput);
      targets.push({ kind, ns: KINDS[kind].namespaced ? namespace : undefined, name });
    } else {
      for (const d of toDocs(kindOrInput)) {
        const kind = resolveKind(String(d.object.kind));
        targets.push({ kind, ns: KINDS[kind].namespaced ? (d.object.metadata?.namespace ?? 'default') : undefined, name: d.object.metadata?.name ?? '' });
      }
    }
    for (const t of targets) await this.store.delete(t.kind, t.ns, t.name, opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds });
    if (opts.wait) {
      await this.waitFor(async () => (await Promise.all(targets.map((t) => this.store.get(t.kind, t.ns, t.name)))).every((o) => !o), {
        what: `${targets.map((t) => `${t.kind.toLowerCase()}/${t.name}`).join(', ')} to be deleted`,
        timeoutMs: opts.timeoutMs,
        kinds: [...new Set(targets.map((t) => t.kind))],
      });
    }
  }

  /** One object (by name), or all of a kind in a namespace (`*` for all namespaces), optionally by label selector. */
  async get<T extends KObject = KObject>(kind: string, name: string, namespace?: string): Promise<T | undefined>;
  async get<T extends KObject = KObject>(kind: string, name?: undefined, namespace?: string, opts?: { labelSelector?: string }): Promise<T[]>;
  async get<T extends KObject = KObject>(kind: string, name?: string, namespace = 'default', opts: { labelSelector?: string } = {}): Promise<T | T[] | undefined> {
    const k = resolveKind(kind);
    if (name) return this.store.get<T>(k, KINDS[k].namespaced ? namespace : undefined, name);
    const { items } = await this.store.list<T>(k, namespace === '*' || !KINDS[k].namespaced ? undefined : namespace);
    if (!opts.labelSelector) return items;
    const reqs = parseSelector(opts.labelSelector);
    return items.filter((o) => matchesRequirements(reqs, o.metadata?.labels as Record<string, string> | undefined));
  }

  /**
   * Calls the handler for every add/update/delete of a kind, starting with an `add` for each
   * object that exists already (as an informer does); returns an unsubscribe function.
   */
  watch<T extends KObject = KObject>(kind: string, handler: InformerHandler<T>): () => void {
    const informer = this.informers.informer<T>(resolveKind(kind));
    const off = informer.on(handler);
    // Not synced yet: its first list delivers the existing objects as adds by itself.
    if (informer.hasSynced()) for (const o of informer.list()) handler.add?.(o);
    return off;
  }

  // ---- waiting ------------------------------------------------------------------------------

  /**
   * Waits until `check` returns something other than false/undefined, and returns it. It is
   * re-run on every change of the cluster's objects (of `kinds`, default all) and every
   * 250 ms. On timeout the error says what was awaited and shows the last events and pods.
   */
  async waitFor<T>(check: () => T | false | undefined | Promise<T | false | undefined>, what?: string | (WaitOptions & { what?: string; kinds?: string[]; detail?: () => Promise<string> | string }), timeoutMs?: number, detail?: () => Promise<string>): Promise<T> {
    const opts = typeof what === 'object' ? what : { what, timeoutMs, detail };
    const ms = opts.timeoutMs ?? this.defaults.timeoutMs;
    const kinds = opts.kinds?.map(resolveKind) ?? (Object.keys(KINDS) as Kind[]).filter((k) => k !== 'Event');
    return waitUntil(check, {
      informers: this.informers,
      kinds,
      timeoutMs: ms,
      onTimeout: async () => {
        const extra = opts.detail ? ` (${await opts.detail()})` : '';
        return new Error(`timed out after ${ms} ms waiting for ${opts.what ?? 'a condition'}${extra}\n${await explain(this.store, [{ metadata: { namespace: opts.namespace ?? 'default' } }])}`);
      },
    });
  }

  /**
   * Waits until objects are ready, as apply() does: workloads with all replicas ready, pods
   * Ready, Services listing every ready pod they select. Accepts objects or `kind/name` refs.
   */
  async waitForReady(targets: KObject | string | Array<KObject | string>, opts: WaitOptions & { failFast?: boolean; since?: number } = {}): Promise<void> {
    const objects = (Array.isArray(targets) ? targets : [targets]).map((t) => (typeof t === 'string' ? this.refToObject(t, opts.namespace) : t));
    const timeoutMs = opts.timeoutMs ?? this.defaults.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const failFast = opts.failFast ?? this.defaults.failFast;
    const since = opts.since ?? Date.now() - 1000;
    const logTail = (ns: string, pod: string, container: string) => this.logs(pod, { namespace: ns, container, tail: LOG_TAIL_LINES });
    await waitForReady(this.store, objects, { timeoutMs, informers: this.informers, failFast, since, logTail, ingress: this.defaults.components.ingress });
    // Ready is not yet routable: the proxy binds a Service's listeners once it sees the
    // endpoints, a moment after we do. Wait for them, then give a bind failure the time to be
    // reported (the proxy records it before our probe can connect; see settleFailures).
    await this.waitRoutable(objects, Math.max(1, deadline - Date.now()));
    if (failFast) await this.settleFailures(objects, since, logTail);
  }

  /**
   * The ready pods of a workload (`deployment/web`, `statefulset/db`, `pod/x`) or a label
   * selector (`app=web`), once there are `count` of them (default: the workload's replicas).
   */
  async waitForPods(workloadOrSelector: string, opts: WaitOptions & { count?: number } = {}): Promise<Pod[]> {
    const ns = opts.namespace ?? 'default';
    const isSelector = /[=!]|\s(in|notin)\s/.test(workloadOrSelector) || !workloadOrSelector.includes('/');
    const informers = this.informers;
    let seen: Pod[] = [];
    return this.waitFor(
      () => {
        const snap: Snapshot = new Map<Kind, KObject[]>([['Pod', informers.informer('Pod').list()]]);
        let pods: Pod[];
        let want = opts.count;
        if (isSelector) {
          const reqs = parseSelector(workloadOrSelector);
          pods = (snap.get('Pod') as Pod[]).filter((p) => (p.metadata?.namespace ?? 'default') === ns && matchesRequirements(reqs, p.metadata?.labels as Record<string, string> | undefined));
        } else {
          const o = this.refToObject(workloadOrSelector, ns);
          const live = informers.informer(o.kind as Kind).get(ns, o.metadata!.name!);
          if (!live) return undefined;
          pods = podsOf(live, snap);
          want ??= o.kind === 'Pod' ? 1 : ((live.spec as { replicas?: number } | undefined)?.replicas ?? (o.kind === 'DaemonSet' ? (live as { status?: { desiredNumberScheduled?: number } }).status?.desiredNumberScheduled : 1));
        }
        const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        seen = ready;
        return ready.length === (want ?? 1) && ready.length === pods.filter((p) => !p.metadata?.deletionTimestamp).length ? ready : undefined;
      },
      { what: `ready pods of ${workloadOrSelector}${opts.count !== undefined ? ` (${opts.count})` : ''}`, timeoutMs: opts.timeoutMs, namespace: ns, kinds: ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'], detail: () => `${seen.length} ready: ${seen.map((p) => p.metadata?.name).join(', ')}` },
    );
  }

  /** Waits until a Service has exactly `count` ready endpoints in its EndpointSlices; returns their IPs. */
  async waitForEndpoints(service: string, count: number, namespace = 'default', timeoutMs?: number): Promise<string[]> {
    let ips: string[] = [];
    return this.waitFor(
      () => {
        ips = readyEndpointsOf(this.informers.informer<EndpointSlice>('EndpointSlice').list(), service, namespace);
        return ips.length === count ? ips : undefined;
      },
      { what: `service ${namespace}/${service} to have ${count} ready endpoints`, timeoutMs, namespace, kinds: ['EndpointSlice'], detail: () => `it has ${ips.length}: ${ips.join(', ')}` },
    );
  }

  /**
   * Waits until an object's status condition has a status, e.g. `('node/node-2', 'Ready', 'Unknown')`
   * or `('pod/web-0', 'Ready')`; returns the object.
   */
  async waitForCondition<T extends KObject = KObject>(ref: string, type: string, status: 'True' | 'False' | 'Unknown' = 'True', opts: WaitOptions = {}): Promise<T> {
    const o = this.refToObject(ref, opts.namespace);
    const kind = o.kind as Kind;
    const ns = KINDS[kind].namespaced ? (opts.namespace ?? 'default') : undefined;
    let now: string | undefined;
    return this.waitFor(
      () => {
        const live = this.informers.informer<T>(kind).get(ns, o.metadata!.name!);
        const c = (live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.find((x) => x.type === type);
        now = c?.status;
        return c?.status === status ? live : undefined;
      },
      { what: `${ref} condition ${type}=${status}`, timeoutMs: opts.timeoutMs, namespace: opts.namespace, kinds: [kind], detail: () => `it is ${now ?? 'not set'}` },
    );
  }

  /** The IPs of a Service's ready endpoints, sorted. */
  async readyEndpoints(service: string, namespace = 'default'): Promise<string[]> {
    return readyEndpointsOf((await this.store.list<EndpointSlice & KObject>('EndpointSlice', namespace)).items, service, namespace);
  }

  // ---- addresses ----------------------------------------------------------------------------

  /**
   * Where to connect to a Service: its ClusterIP (default), a NodePort on node-1 (or
   * `node`), or its LoadBalancer IP. `port` picks a service port by number or name (default
   * the first of `protocol`, TCP unless given).
   */
  async serviceAddress(name: string, port?: number | string, opts: { type?: ServiceAddressType; namespace?: string; node?: number; protocol?: 'TCP' | 'UDP' | 'SCTP' } = {}): Promise<Address> {
    const ns = opts.namespace ?? 'default';
    const svc = await this.store.get<Service>('Service', ns, name);
    if (!svc) throw new Error(`service ${ns}/${name} not found`);
    const ports = (svc.spec?.ports ?? []).filter((p) => !opts.protocol || (p.protocol ?? 'TCP') === opts.protocol);
    const sp = port === undefined ? (opts.protocol ? ports[0] : (ports.find((p) => (p.protocol ?? 'TCP') === 'TCP') ?? ports[0])) : ports.find((p) => p.name === port) ?? ports.find((p) => p.port === port && (opts.protocol || (p.protocol ?? 'TCP') === 'TCP')) ?? ports.find((p) => p.port === port);
    if (!sp) throw new Error(`service ${ns}/${name} has no ${opts.protocol ?? ''} port ${port ?? ''} (it has ${(svc.spec?.ports ?? []).map((p) => `${p.name ?? ''}${p.port}/${p.protocol ?? 'TCP'}`).join(', ') || 'none'})`.replace(/\s+/g, ' '));
    const type = svc.spec?.type ?? 'ClusterIP';
    switch (opts.type ?? 'ClusterIP') {
      case 'NodePort':
        if (!sp.nodePort) throw new Error(`service ${ns}/${name} has no nodePort (it is type ${type})`);
        return { host: nodeIP(this.config, opts.node ?? 1), port: sp.nodePort };
      case 'LoadBalancer': {
        const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
        if (!ip) throw new Error(`service ${ns}/${name} has no LoadBalancer IP (it is type ${type})`);
        return { host: ip, port: sp.port };
      }
      default:
        if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') throw new Error(`service ${ns}/${name} has no ClusterIP (${svc.spec?.clusterIP === 'None' ? 'headless' : type})`);
        return { host: svc.spec.clusterIP, port: sp.port };
    }
  }

  /** The ingress controller's address and ports (hosts in Ingress rules also resolve to it through `lookup`). */
  ingressAddress(): { host: string; httpPort: number; httpsPort: number } {
    const info = this.cluster.componentInfo().ingress;
    if (!info) throw new Error('this cluster runs no ingress controller (components.ingress is false)');
    return { host: String(info.address), httpPort: Number(info.http ?? 80), httpsPort: Number(info.https ?? 443) };
  }

  /** The cluster DNS server (kube-dns's ClusterIP, port 53 unless privilege forced another). */
  get dnsServer(): Address {
    const info = this.cluster.componentInfo().dns;
    return { host: String(info?.address ?? this.config.dnsServiceIP), port: Number(info?.port ?? this.config.dnsPort) };
  }

  /** A resolver that asks the cluster DNS (for `resolve4`, `resolveSrv`, …). */
  get resolver(): dns.promises.Resolver {
    return this.lookupResolver;
  }

  /**
   * A `dns.lookup`-compatible function: names in the cluster domain (`web.default.svc.cluster.local`,
   * `web.default.svc`) through the cluster DNS, hosts of the cluster's Ingress rules to the
   * ingress controller, anything else as usual. For `http.get({ host, lookup })`, `net.connect`,
   * or undici's `new Agent({ connect: { lookup } })` (which `fetch()` below does for you).
   */
  readonly lookup = (hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const answer = (ips: string[]) => (opts.all ? cb(null, ips.map((address) => ({ address, family: 4 }))) : cb(null, ips[0], 4));
    const notFound = (cause?: unknown) => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname, cause }));
    const name = hostname.replace(/\.$/, '').toLowerCase();
    const domain = this.config.clusterDomain;
    if (name.endsWith(`.${domain}`) || name.endsWith('.svc')) {
      if (!this.cluster.componentInfo().dns) return notFound(new Error('this cluster runs no DNS (components.dns is false)'));
      if (opts.family === 6) return notFound();
      const fqdn = name.endsWith('.svc') ? `${name}.${domain}` : name;
      this.lookupResolver.resolve4(fqdn).then((ips) => (ips.length ? answer(ips) : notFound()), notFound);
      return;
    }
    const ingress = this.ingressHostAddress(name);
    if (ingress) return answer([ingress]);
    dns.lookup(hostname, opts as LookupOptions & { all: boolean }, cb as never);
  };

  /**
   * fetch() that resolves cluster names through `lookup`, so a test can write
   * `cluster.fetch('http://web.default.svc.cluster.local/hostname')` or
   * `cluster.fetch('http://web.example.com/')` for an Ingress host. Every request gets a
   * connection of its own, as with curl: kube-proxy balances connections, so requests spread
   * over a Service's endpoints instead of sticking to the one a kept-alive connection reached.
   */
  fetch(input: RequestInfo, init: RequestInit = {}): Promise<Response> {
    this.agent ??= new Agent({ connect: { lookup: this.lookup as never }, pipelining: 0 });
    return undiciFetch(input, { ...init, dispatcher: this.agent });
  }

  // ---- faults and evidence ------------------------------------------------------------------

  /** Stops a node's heartbeats (as if it lost power): it goes NotReady and its endpoints not-ready. */
  async nodeStop(name: string): Promise<void> {
    await this.setFault(name, true);
  }
  /** Undoes nodeStop: the node heartbeats again and goes Ready. */
  async nodeStart(name: string): Promise<void> {
    await this.setFault(name, false);
  }

  /**
   * A container's log so far (`tail` lines only if given), as `knet logs` shows it. `pod` is
   * a pod name or `deployment/web` (its first pod).
   */
  async logs(pod: string, opts: { container?: string; namespace?: string; tail?: number } = {}): Promise<string> {
    const ns = opts.namespace ?? 'default';
    let podName = pod;
    if (pod.includes('/')) {
      const o = this.refToObject(pod, ns);
      const live = o.kind === 'Pod' ? o : await this.store.get(o.kind as Kind, ns, o.metadata!.name!);
      const pods = live ? podsOf(live, new Map([['Pod', (await this.store.list('Pod', ns)).items]])) : [];
      if (!pods[0]) throw new Error(`${pod} has no pods`);
      podName = pods.sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)))[0]!.metadata!.name!;
    }
    const p = await this.store.get<Pod>('Pod', ns, podName);
    const container = opts.container ?? p?.spec?.containers?.[0]?.name;
    const file = path.join(this.cluster.dir.podLogDir(ns, podName), `${container}.log`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (opts.tail === undefined) return text;
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-opts.tail).join('\n') + (lines.length ? '\n' : '');
  }

  /** Events, oldest first: of a namespace, or about one object (`{ for: 'pod/web-0' }`). */
  async events(opts: string | { namespace?: string; for?: string } = {}): Promise<Event[]> {
    const o = typeof opts === 'string' ? { namespace: opts } : opts;
    const about = o.for ? this.refToObject(o.for, o.namespace) : undefined;
    const items = (await this.store.list('Event', about && KINDS[about.kind as Kind].namespaced ? (o.namespace ?? 'default') : o.namespace)).items as unknown as Event[];
    return items
      .filter((e) => !about || (e.involvedObject.kind === about.kind && e.involvedObject.name === about.metadata?.name))
      .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''));
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Stops everything: pods (at once, no grace period), components, Redis; removes the state
   * dir (if it made it) and frees the address block. No listener, child process, timer or
   * file of the cluster is left once this resolves.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.lookupResolver.cancel();
      await Promise.all([this.agent?.destroy(), this.ownInformers?.close()]);
      await this.cluster.close();
      // The temp dir startCluster made around the cluster's own dir.
      if (this.defaults.tempDir) rmSync(this.defaults.tempDir, { recursive: true, force: true });
    })());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Waits until every TCP port of the Services among `objects` that has ready endpoints accepts connections on its ClusterIP. */
  private async waitRoutable(objects: readonly KObject[], timeoutMs: number): Promise<void> {
    if (!this.defaults.components.proxy) return;
    const targets: Array<{ svc: string; host: string; port: number }> = [];
    for (const o of objects) {
      if (o.kind !== 'Service') continue;
      const ns = o.metadata?.namespace ?? 'default';
      const svc = this.informers.informer<Service & KObject>('Service').get(ns, o.metadata?.name ?? '');
      const ip = svc?.spec?.clusterIP;
      // Services another proxy serves (DNS, ingress) and headless ones have no listener of ours.
      if (!svc || !ip || ip === 'None' || svc.metadata?.labels?.['service.kubernetes.io/service-proxy-name']) continue;
      // The proxy listens on a port only while some ready endpoint has it (a named targetPort
      // no pod declares leaves the port out of the slices: kube-proxy rejects it).
      const slices = this.informers
        .informer<EndpointSlice & KObject>('EndpointSlice')
        .list()
        .filter((sl) => (sl.metadata?.namespace ?? 'default') === ns && sl.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name && (sl.endpoints ?? []).some((e) => e.conditions?.ready !== false));
      for (const p of svc.spec?.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP' || !slices.some((sl) => (sl.ports ?? []).some((sp) => (sp.name ?? '') === (p.name ?? '') && (sp.protocol ?? 'TCP') === 'TCP'))) continue;
        targets.push({ svc: `${ns}/${svc.metadata!.name}`, host: ip, port: p.port });
      }
    }
    for (const t of targets) {
      let last = '';
      await waitUntil(
        async () => {
          last = await tryConnect(t.host, t.port);
          return last === '';
        },
        {
          informers: this.informers,
          kinds: ['Service', 'EndpointSlice'],
          timeoutMs,
          pollMs: 10,
          onTimeout: () => new Error(`service ${t.svc} is ready but not routable: ${t.host}:${t.port} refuses connections (${last}); is the proxy running?`),
        },
      );
    }
  }

  /**
   * A failure the components report as an event (a port the proxy cannot bind) is written
   * before our probe could connect; once the watch has caught up with the store, it is in the
   * cache if it happened.
   */
  private async settleFailures(objects: readonly KObject[], since: number, logTail: (ns: string, pod: string, container: string) => Promise<string>): Promise<void> {
    if (!objects.some((o) => o.kind === 'Service' || o.kind === 'Ingress')) return;
    const informers = this.informers;
    const rv = await this.store.currentResourceVersion();
    await waitUntil(() => informers.resourceVersion >= rv, { informers, kinds: ['Event'], timeoutMs: 5000, pollMs: 5, onTimeout: () => new Error(`the watch did not catch up with resourceVersion ${rv}`) });
    const snap: Snapshot = new Map(SNAPSHOT_KINDS.map((k) => [k, informers.informer(k).list()]));
    const failures = findFailures(objects, snap, { since });
    if (failures.length) throw await notReadyError(describeFailures(failures), objects, snap, [], failures, logTail);
  }

  /** The cluster's shared watch (single-process), or one of our own against its Redis. */
  private get informers(): StoreInformerFactory {
    if (this.cluster.informers) return this.cluster.informers;
    this.ownInformers ??= new StoreInformerFactory(this.store, { redisUrl: this.cluster.redisUrl });
    return this.ownInformers;
  }

  private refToObject(ref: string, namespace = 'default'): KObject {
    const [kind, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : ['pod', ref];
    const k = resolveKind(kind);
    return { apiVersion: KINDS[k].apiVersion, kind: k, metadata: { name, ...(KINDS[k].namespaced ? { namespace } : {}) } };
  }

  private ingressHostAddress(host: string): string | undefined {
    const info = this.cluster.componentInfo().ingress;
    if (!info) return undefined;
    const ingresses = this.informers.informer<Ingress & KObject>('Ingress').list();
    const hosts = ingresses.flatMap((i) => [...(i.spec?.rules ?? []).map((r) => r.host), ...(i.spec?.tls ?? []).flatMap((t) => t.hosts ?? [])]).filter((h): h is string => !!h);
    const match = hosts.some((h) => h === host || (h.startsWith('*.') && host.endsWith(h.slice(1)) && !host.slice(0, -h.length + 1).includes('.')));
    return match ? String(info.address) : undefined;
  }

  private async setFault(name: string, on: boolean): Promise<void> {
    const done = await this.store.mutate<Node & KObject>('Node', undefined, name, (n) => {
      const annotations = { ...n.metadata?.annotations };
      if (on) annotations[FAULT_ANNOTATION] = 'stopped';
      else delete annotations[FAULT_ANNOTATION];
      return { ...n, metadata: { ...n.metadata, annotations } };
    });
    if (!done) throw new Error(`node ${name} not found`);
  }
}

/** Starts a cluster (and applies `manifests`, waiting until ready). Close it with close() or `await using`. */
export async function startCluster(opts: StartClusterOptions = {}): Promise<KnetCluster> {
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'knet-'));
  let cluster: Cluster;
  try {
    cluster = await startClusterCore({
      name: opts.name ?? `t${process.pid}-${++counter}`,
      stateDir,
      index: opts.index,
      nodes: opts.nodes ?? 2,
      mode: opts.mode ?? 'single-process',
      components: opts.components,
      config: opts.config,
      crashBackoffMs: opts.crashBackoffMs ?? 100,
      removeStateOnClose: opts.stateDir === undefined,
      watchEvents: true,
      log: opts.log ?? silentLogger,
    });
  } catch (err) {
    if (opts.stateDir === undefined) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const handle = new KnetCluster(cluster, {
    timeoutMs: opts.readyTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    failFast: opts.failFast ?? true,
    components: { proxy: true, dns: true, ingress: true, ...opts.components },
    ...(opts.stateDir === undefined ? { tempDir: stateDir } : {}),
  });
  if (opts.manifests) {
    const t = performance.now();
    try {
      await handle.apply(opts.manifests);
    } catch (err) {
      await handle.close();
      throw err;
    }
    cluster.timings.manifests = Math.round((performance.now() - t) * 10) / 10;
  }
  return handle;
}

/** A running cluster, as KnetCluster.ref describes it to another process. */
export interface ClusterRef {
  name: string;
  stateDir: string;
  redisUrl: string;
  config: ClusterConfig;
  components: { proxy: boolean; dns: boolean; ingress: boolean };
  componentInfo: Record<string, Record<string, string | number> | undefined>;
}

/**
 * A handle on a cluster another process started (its `ref`): every method works — apply,
 * wait, addresses, lookup, faults, logs — but close() only disconnects; the cluster stays up
 * until its owner closes it.
 */
export async function connectCluster(ref: ClusterRef, opts: { readyTimeoutMs?: number; failFast?: boolean } = {}): Promise<KnetCluster> {
  const store = new ObjectStore(connectRedis(ref.redisUrl), ref.name);
  const attached: Cluster = {
    name: ref.name,
    config: ref.config,
    redisUrl: ref.redisUrl,
    store,
    dir: new ClusterDir(ref.stateDir, ref.name),
    mode: 'single-process',
    pids: () => ({}),
    componentInfo: () => ref.componentInfo,
    timings: {},
    applied: [],
    apply: (docs) => applyManifests(store, ref.config, docs),
    close: () => store.close(),
  };
  return new KnetCluster(attached, { timeoutMs: opts.readyTimeoutMs ?? DEFAULT_TIMEOUT_MS, failFast: opts.failFast ?? true, components: ref.components });
}

/** '' once host:port accepts a TCP connection (closed at once), else why not. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000, () => {
      s.destroy();
      resolve('timed out');
    });
    s.once('connect', () => {
      s.destroy();
      resolve('');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function readyEndpointsOf(slices: Array<EndpointSlice & { metadata?: KObject['metadata'] }>, service: string, namespace: string): string[] {
  return slices
    .filter((s) => (s.metadata?.namespace ?? 'default') === namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === service)
    .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0]!))
    .sort();
}

function toDocs(input: ManifestInput): ManifestDoc[] {
  const items = Array.isArray(input) ? input : [input];
  return items.flatMap((item, i) => {
    if (typeof item !== 'string') return [{ source: '<object>', index: i + 1, object: item }];
    if (/\n/.test(item) || /^\s*(apiVersion|kind)\s*:/m.test(item)) return parseManifestText(item, '<inline>');
    return readManifestPaths([item]);
  });
}


