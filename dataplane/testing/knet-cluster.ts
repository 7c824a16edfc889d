/**
 * The handle a test holds on a running cluster: apply and read objects, wait on them, find
 * their addresses, inject faults, read logs and events, close. Each group of methods lives in
 * a file of its own (waits.ts, addressing.ts, evidence.ts); this class keeps the state they
 * share (the cluster, its watch, the DNS resolver, the HTTP agent) and its lifecycle.
 */
import { rmSync } from 'node:fs';
import dns from 'node:dns';
import { Agent, fetch as undiciFetch, type RequestInfo, type RequestInit, type Response } from 'undici';
import type { Pod, Event } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Cluster } from '../cluster/cluster.js';
import { parseManifestText, readManifestPaths, type ManifestDoc } from '../base/admission/manifests.js';
import type { ApplyResult } from '../base/admission/apply.js';
import { StoreInformerFactory } from '../base/store/watch.js';
import type { InformerHandler } from '../base/informer/informer-types.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import { matchesRequirements, parseSelector } from '../base/model/selector.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import { resolveKind } from '../base/printers/resources.js';
import { refToObject, type ClusterContext, type HandleDefaults } from './cluster-context.js';
import { readyEndpointsOf, waitFor, waitForCondition, waitForEndpoints, waitForPods, waitForReady, type WaitForOptions, type WaitOptions } from './waits.js';
import { clusterLookup, dnsServer, ingressAddress, serviceAddress, type Address, type Lookup, type ServiceAddressOptions } from './addressing.js';
import { containerLog, eventsAbout, setNodeFault } from './evidence.js';
import { deleteObjects, type PropagationPolicy } from '../base/admission/writes.js';
import { execInPod, type ExecOptions, type ExecResult } from './pod-exec.js';

export type ManifestInput = string | KObject | Array<string | KObject>;

/** A running cluster, as KnetCluster.ref describes it to another process. */
export interface ClusterRef {
  name: string;
  stateDir: string;
  redisUrl: string;
  config: ClusterConfig;
  components: { proxy: boolean; dns: boolean; ingress: boolean };
  componentInfo: Record<string, Record<string, string | number> | undefined>;
}

const LOG_TAIL_LINES = 20;

export class KnetCluster implements AsyncDisposable {
  private ownInformers?: StoreInformerFactory;
  private agent?: Agent;
  private readonly lookupResolver: dns.promises.Resolver;
  private closing?: Promise<void>;
  private readonly ctx: ClusterContext;

  /** @internal use startCluster() or connectCluster() */
  constructor(
    private readonly cluster: Cluster,
    private readonly defaults: HandleDefaults,
  ) {
    // `informers` is read through: the cluster's shared watch (single-process), or one of our
    // own against its Redis, made on first use.
    this.ctx = Object.defineProperty({ cluster, store: cluster.store, config: cluster.config, defaults } as Omit<ClusterContext, 'informers'>, 'informers', {
      get: () => this.informers,
    }) as ClusterContext;
    this.lookupResolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
    this.lookupResolver.setServers([`${this.dnsServer.host}:${this.dnsServer.port}`]);
    this.lookup = clusterLookup(this.ctx, this.lookupResolver);
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
  /**
   * The admin kubeconfig of the cluster's apiserver: `path` (a file in the cluster's state dir,
   * 0600; never the user's ~/.kube/config) and `yaml`, for kubectl (`KUBECONFIG=path`) or a
   * client library (`kc.loadFromString(yaml)`).
   */
  get kubeconfig(): { path: string; yaml: string } {
    return this.cluster.kubeconfig;
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
   * (dependents too, by the garbage collector: `propagationPolicy` as kubectl's --cascade).
   * `wait: true` resolves once the objects are gone (pods after their grace period; with
   * Foreground, after the dependents).
   */
  async delete(
    kindOrInput: string | KObject | Array<string | KObject>,
    name?: string,
    namespace = 'default',
    opts: { gracePeriodSeconds?: number; propagationPolicy?: PropagationPolicy; wait?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const targets = deleteTargets(kindOrInput, name, namespace);
    // One batch, as `knet delete -f`: every object found is deleted, then the first failure is thrown.
    const outcomes = await deleteObjects(
      this.store,
      targets.map((t) => ({ kind: t.kind, namespace: t.ns, name: t.name })),
      { propagationPolicy: opts.propagationPolicy, ...(opts.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: opts.gracePeriodSeconds }) },
    );
    for (const o of outcomes) if ('error' in o) throw o.error;
    if (!opts.wait) return;
    await this.waitFor(async () => (await Promise.all(targets.map((t) => this.store.get(t.kind, t.ns, t.name)))).every((o) => !o), {
      what: `${targets.map((t) => `${t.kind.toLowerCase()}/${t.name}`).join(', ')} to be deleted`,
      timeoutMs: opts.timeoutMs,
      kinds: [...new Set(targets.map((t) => t.kind))],
    });
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
    // The informer replays what it holds to a new handler; its first list delivers the rest.
    return this.informers.informer<T>(resolveKind(kind)).on(handler);
  }

  // ---- waiting (waits.ts) -------------------------------------------------------------------

  /**
   * Waits until `check` returns something other than false/undefined, and returns it, re-run on
   * every change of the cluster's objects (of `kinds`, default all). On timeout the error says
   * what was awaited and shows the last events and pods.
   */
  async waitFor<T>(check: () => T | false | undefined | Promise<T | false | undefined>, what?: string | WaitForOptions, timeoutMs?: number, detail?: () => Promise<string>): Promise<T> {
    return waitFor(this.ctx, check, typeof what === 'object' ? what : { what, timeoutMs, detail });
  }

  /**
   * Waits until objects are ready, as apply() does: workloads with all replicas ready, pods
   * Ready, Services listing every ready pod they select. Accepts objects or `kind/name` refs.
   */
  async waitForReady(targets: KObject | string | Array<KObject | string>, opts: WaitOptions & { failFast?: boolean; since?: number } = {}): Promise<void> {
    const objects = (Array.isArray(targets) ? targets : [targets]).map((t) => (typeof t === 'string' ? refToObject(t, opts.namespace) : t));
    const logTail = (ns: string, pod: string, container: string) => this.logs(pod, { namespace: ns, container, tail: LOG_TAIL_LINES });
    await waitForReady(this.ctx, objects, { ...opts, logTail });
  }

  /**
   * The ready pods of a workload (`deployment/web`, `statefulset/db`, `pod/x`) or a label
   * selector (`app=web`), once there are `count` of them (default: the workload's replicas).
   */
  async waitForPods(workloadOrSelector: string, opts: WaitOptions & { count?: number } = {}): Promise<Pod[]> {
    return waitForPods(this.ctx, workloadOrSelector, opts);
  }

  /** Waits until a Service has exactly `count` ready endpoints in its EndpointSlices; returns their IPs. */
  async waitForEndpoints(service: string, count: number, namespace = 'default', timeoutMs?: number): Promise<string[]> {
    return waitForEndpoints(this.ctx, service, count, namespace, timeoutMs);
  }

  /**
   * Waits until an object's status condition has a status, e.g. `('node/node-2', 'Ready', 'Unknown')`
   * or `('pod/web-0', 'Ready')`; returns the object.
   */
  async waitForCondition<T extends KObject = KObject>(ref: string, type: string, status: 'True' | 'False' | 'Unknown' = 'True', opts: WaitOptions = {}): Promise<T> {
    return waitForCondition<T>(this.ctx, ref, type, status, opts);
  }

  /** The IPs of a Service's ready endpoints, sorted. */
  async readyEndpoints(service: string, namespace = 'default'): Promise<string[]> {
    return readyEndpointsOf((await this.store.list<EndpointSlice>('EndpointSlice', namespace)).items, service, namespace);
  }

  // ---- addresses (addressing.ts) ------------------------------------------------------------

  /**
   * Where to connect to a Service: its ClusterIP (default), a NodePort on node-1 (or
   * `node`), or its LoadBalancer IP. `port` picks a service port by number or name (default
   * the first of `protocol`, TCP unless given).
   */
  async serviceAddress(name: string, port?: number | string, opts: ServiceAddressOptions = {}): Promise<Address> {
    return serviceAddress(this.ctx, name, port, opts);
  }

  /** The ingress controller's address and ports (hosts in Ingress rules also resolve to it through `lookup`). */
  ingressAddress(): { host: string; httpPort: number; httpsPort: number } {
    return ingressAddress(this.ctx);
  }

  /** The cluster DNS server (kube-dns's ClusterIP, port 53 unless privilege forced another). */
  get dnsServer(): Address {
    return dnsServer(this.ctx);
  }

  /** A resolver that asks the cluster DNS (for `resolve4`, `resolveSrv`, …). */
  get resolver(): dns.promises.Resolver {
    return this.lookupResolver;
  }

  /**
   * A `dns.lookup`-compatible function: cluster names through the cluster DNS, Ingress hosts to
   * the ingress controller, anything else as usual. For `http.get({ host, lookup })`,
   * `net.connect`, or undici's `new Agent({ connect: { lookup } })` (which `fetch()` does for you).
   */
  readonly lookup: Lookup;

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

  // ---- faults and evidence (evidence.ts) ----------------------------------------------------

  /** Stops a node's heartbeats (as if it lost power): it goes NotReady and its endpoints not-ready. */
  async nodeStop(name: string): Promise<void> {
    await setNodeFault(this.ctx, name, true);
  }
  /** Undoes nodeStop: the node heartbeats again and goes Ready. */
  async nodeStart(name: string): Promise<void> {
    await setNodeFault(this.ctx, name, false);
  }

  /**
   * A container's log so far (`tail` lines only if given), as `knet logs` shows it: the
   * current run, or with `previous` the last terminated one ('' when there is none). `pod` is
   * a pod name or `deployment/web` (its first pod).
   */
  async logs(pod: string, opts: { container?: string; namespace?: string; tail?: number; previous?: boolean } = {}): Promise<string> {
    return containerLog(this.ctx, pod, opts);
  }

  /**
   * Runs a command in a pod's container, as `kubectl exec` does, and resolves with its output
   * and exit code once it ends (a non-zero exit is a result, not an error). `pod` is a pod name
   * or `deployment/web` (its first pod); `stdin` is sent with its end. Emulated images run it in
   * the pod's simulated shell (its files, environment, connections from the pod IP), programs
   * as a local process. Throws when it cannot run (no such pod or container, not running).
   *
   *   const { stdout } = await cluster.exec('client', ['wget', '-qO-', 'http://web/clientip']);
   *   await cluster.exec('web-0', ['touch', '/tmp/ready']);
   */
  async exec(pod: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return execInPod(this.ctx, pod, argv, opts);
  }

  /** Events, oldest first: of a namespace, or about one object (`{ for: 'pod/web-0' }`). */
  async events(opts: string | { namespace?: string; for?: string } = {}): Promise<Event[]> {
    return eventsAbout(this.ctx, typeof opts === 'string' ? { namespace: opts } : opts);
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
      if (this.defaults.tempDir) rmSync(this.defaults.tempDir, { recursive: true, force: true });
    })());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private get informers(): StoreInformerFactory {
    if (this.cluster.informers) return this.cluster.informers;
    this.ownInformers ??= new StoreInformerFactory(this.store, { redisUrl: this.cluster.redisUrl });
    return this.ownInformers;
  }
}

/** Paths, YAML text or objects → manifest documents. */
export function toDocs(input: ManifestInput): ManifestDoc[] {
  const items = Array.isArray(input) ? input : [input];
  return items.flatMap((item, i) => {
    if (typeof item !== 'string') return [{ source: '<object>', index: i + 1, object: item }];
    if (/\n/.test(item) || /^\s*(apiVersion|kind)\s*:/m.test(item)) return parseManifestText(item, '<inline>');
    return readManifestPaths([item]);
  });
}

function deleteTargets(kindOrInput: string | KObject | Array<string | KObject>, name: string | undefined, namespace: string): Array<{ kind: Kind; ns?: string; name: string }> {
  if (typeof kindOrInput === 'string' && name) {
    const kind = resolveKind(kindOrInput);
    return [{ kind, ns: KINDS[kind].namespaced ? namespace : undefined, name }];
  }
  return toDocs(kindOrInput).map((d) => {
    const kind = resolveKind(String(d.object.kind));
    return { kind, ns: KINDS[kind].namespaced ? (d.object.metadata?.namespace ?? 'default') : undefined, name: d.object.metadata?.name ?? '' };
  });
}
