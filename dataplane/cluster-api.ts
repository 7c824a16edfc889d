/**
 * knet inside test suites: start a real cluster from a test, talk to it, break it, close it.
 *
 *   import { startCluster } from 'knet';
 *   await using cluster = await startCluster({ manifests: 'examples/quickstart' });
 *   const { host, port } = cluster.serviceAddress('web');
 *   await fetch(`http://${host}:${port}/hostname`);
 *
 * Every cluster gets its own address block, Redis and state dir, so test files can run in
 * parallel. It runs the same components and store as the command line, all in this process
 * by default (fastest); nothing is faked.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Service, Pod, Event } from 'kubernetes-types/core/v1.js';
import { startCluster as startClusterProcesses, type Cluster, type ClusterOptions } from './cluster/cluster.js';
import { parseManifestText, readManifestPaths, type ManifestDoc } from './api/manifests.js';
import type { ApplyResult } from './api/apply.js';
import { waitForReady, explain } from './cluster/readiness.js';
import { StoreInformerFactory } from './store/watch.js';
import type { InformerHandler } from './informer-types.js';
import { KINDS, type KObject, type Kind } from './model/object.js';
import { nodeIP, type ClusterConfig } from './cluster-config.js';
import { FAULT_ANNOTATION } from './node/node-object.js';
import { resolveKind } from './cli/resources.js';
import { INGRESS_NAMESPACE, INGRESS_SERVICE } from './cluster/bootstrap.js';

export type ManifestInput = string | KObject | Array<string | KObject>;

export interface StartClusterOptions {
  /** Manifests applied once the cluster is up: paths, YAML text or objects. Waits until ready. */
  manifests?: ManifestInput;
  nodes?: number;
  components?: ClusterOptions['components'];
  /** 'single-process' (default) or 'processes' (one process per component, as `knet up`). */
  mode?: ClusterOptions['mode'];
  /** Settings to override (dnsPort, nodeGraceSeconds, zones…). */
  config?: Partial<ClusterConfig>;
  /** An explicit address block (1…65); chosen automatically otherwise. */
  index?: number;
  /** Keep the state dir here instead of a fresh temp dir (not removed on close). */
  stateDir?: string;
  /** How long to wait for manifests to be ready. */
  readyTimeoutMs?: number;
  /** The kubelet's crash back-off base (10 s in Kubernetes); defaults to 100 ms in tests. */
  crashBackoffMs?: number;
}

export interface Address {
  host: string;
  port: number;
}

let counter = 0;

export class KnetCluster {
  private informers?: StoreInformerFactory;
  private readonly lookupResolver: dns.promises.Resolver;

  constructor(private readonly cluster: Cluster) {
    this.lookupResolver = new dns.promises.Resolver({ timeout: 2000, tries: 2 });
    this.lookupResolver.setServers([`${this.dnsServer.host}:${this.dnsServer.port}`]);
  }

  get name(): string {
    return this.cluster.name;
  }
  get config(): ClusterConfig {
    return this.cluster.config;
  }
  /** The cluster's object store (the apiserver analog), for anything the helpers don't cover. */
  get store() {
    return this.cluster.store;
  }
  get stateDir(): string {
    return this.cluster.dir.dir;
  }

  /** Applies manifests (paths, YAML text, objects) all or nothing; waits until they are ready unless `wait: false`. */
  async apply(input: ManifestInput, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<ApplyResult[]> {
    const results = await this.cluster.apply(toDocs(input));
    if (opts.wait !== false) await this.waitForReady(results.map((r) => r.object), opts.timeoutMs);
    return results;
  }

  /** Deletes by manifest (path, YAML, object) or by kind and name. */
  async delete(kindOrInput: string | KObject | Array<string | KObject>, name?: string, namespace = 'default', opts: { gracePeriodSeconds?: number } = {}): Promise<void> {
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
    for (const t of targets) await this.store.delete(t.kind, t.ns, t.name, opts);
  }

  /** One object (with a name) or all of a kind in a namespace (namespace `*` for all). */
  async get<T extends KObject = KObject>(kind: string, name: string, namespace?: string): Promise<T | undefined>;
  async get<T extends KObject = KObject>(kind: string, name?: undefined, namespace?: string): Promise<T[]>;
  async get<T extends KObject = KObject>(kind: string, name?: string, namespace = 'default'): Promise<T | T[] | undefined> {
    const k = resolveKind(kind);
    if (name) return this.store.get<T>(k, KINDS[k].namespaced ? namespace : undefined, name);
    const { items } = await this.store.list<T>(k, namespace === '*' || !KINDS[k].namespaced ? undefined : namespace);
    return items;
  }

  /** Calls the handler for every add/update/delete of a kind; returns an unsubscribe function. */
  watch<T extends KObject = KObject>(kind: string, handler: InformerHandler<T>): () => void {
    this.informers ??= new StoreInformerFactory(this.store, { redisUrl: this.cluster.redisUrl });
    return this.informers.informer<T>(resolveKind(kind)).on(handler);
  }

  /** Waits until workloads are ready and Services list their ready pods (what `apply` waits for). */
  async waitForReady(objects: KObject[], timeoutMs = 30_000): Promise<void> {
    await waitForReady(this.store, objects, { timeoutMs });
  }

  /** Waits until a Service has at least `count` ready endpoints in its EndpointSlices. */
  async waitForEndpoints(service: string, count: number, namespace = 'default', timeoutMs = 30_000): Promise<string[]> {
    let ips: string[] = [];
    await this.waitFor(async () => {
      ips = await this.readyEndpoints(service, namespace);
      return ips.length === count;
    }, `service ${namespace}/${service} to have ${count} ready endpoints`, timeoutMs, async () => `it has ${ips.length}: ${ips.join(', ')}`);
    return ips;
  }

  async readyEndpoints(service: string, namespace = 'default'): Promise<string[]> {
    const slices = (await this.store.list('EndpointSlice', namespace)).items as unknown as Array<{ metadata?: KObject['metadata']; endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }>;
    return slices
      .filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === service)
      .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0]!))
      .sort();
  }

  /** Polls a condition until it holds; the error names what was awaited and the last events. */
  async waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, detail?: () => Promise<string>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (${await detail()})` : ''}\n${await explain(this.store, [{ metadata: { namespace: 'default' } }])}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Where to connect to a Service: its ClusterIP (default), a NodePort on node-1, or its
   * LoadBalancer IP. `port` picks a service port by number or name (default the first).
   */
  async serviceAddress(name: string, port?: number | string, opts: { type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer'; namespace?: string; node?: number } = {}): Promise<Address> {
    const svc = await this.store.get<Service>('Service', opts.namespace ?? 'default', name);
    if (!svc) throw new Error(`service ${opts.namespace ?? 'default'}/${name} not found`);
    const sp = port === undefined ? svc.spec?.ports?.[0] : svc.spec?.ports?.find((p) => p.port === port || p.name === port);
    if (!sp) throw new Error(`service ${name} has no port ${port ?? ''}`);
    switch (opts.type ?? 'ClusterIP') {
      case 'NodePort':
        if (!sp.nodePort) throw new Error(`service ${name} has no nodePort (type ${svc.spec?.type ?? 'ClusterIP'})`);
        return { host: nodeIP(this.config, opts.node ?? 1), port: sp.nodePort };
      case 'LoadBalancer': {
        const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
        if (!ip) throw new Error(`service ${name} has no LoadBalancer IP`);
        return { host: ip, port: sp.port };
      }
      default:
        if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') throw new Error(`service ${name} has no ClusterIP`);
        return { host: svc.spec.clusterIP, port: sp.port };
    }
  }

  /** The ingress controller's address and ports. */
  ingressAddress(): { host: string; httpPort: number; httpsPort: number } {
    const info = this.cluster.componentInfo().ingress;
    if (!info) throw new Error('this cluster runs no ingress controller');
    return { host: String(info.address), httpPort: Number(info.http ?? 80), httpsPort: Number(info.https ?? 443) };
  }

  get dnsServer(): Address {
    const info = this.cluster.componentInfo().dns;
    return { host: String(info?.address ?? this.config.dnsServiceIP), port: Number(info?.port ?? this.config.dnsPort) };
  }

  /**
   * A `dns.lookup`-compatible function that resolves names in the cluster domain through the
   * cluster DNS (and everything else as usual), for http.get / undici / fetch in tests.
   */
  readonly lookup = (hostname: string, options: LookupOptions | number | ((...a: unknown[]) => void), callback?: (...a: unknown[]) => void): void => {
    const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address?: string | LookupAddress[], family?: number) => void;
    const opts: LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const inCluster = hostname.endsWith(`.${this.config.clusterDomain}`) || hostname.endsWith(`.${this.config.clusterDomain}.`) || /\.svc$/.test(hostname);
    if (!inCluster) {
      dns.lookup(hostname, { ...opts, all: opts.all ?? false } as LookupOptions & { all: false }, cb as never);
      return;
    }
    const fqdn = hostname.endsWith('.svc') ? `${hostname}.${this.config.clusterDomain}` : hostname;
    this.lookupResolver.resolve4(fqdn).then(
      (ips) => (opts.all ? cb(null, ips.map((address) => ({ address, family: 4 }))) : cb(null, ips[0], 4)),
      (err: NodeJS.ErrnoException) => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', cause: err })),
    );
  };

  async nodeStop(name: string): Promise<void> {
    await this.setFault(name, true);
  }
  async nodeStart(name: string): Promise<void> {
    await this.setFault(name, false);
  }

  /** A container's log so far. */
  async logs(pod: string, opts: { container?: string; namespace?: string } = {}): Promise<string> {
    const ns = opts.namespace ?? 'default';
    const p = await this.store.get<Pod>('Pod', ns, pod);
    const container = opts.container ?? p?.spec?.containers?.[0]?.name;
    const file = path.join(this.cluster.dir.podLogDir(ns, pod), `${container}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Events, oldest first. */
  async events(namespace?: string): Promise<Event[]> {
    const items = (await this.store.list('Event', namespace)).items as unknown as Event[];
    return items.sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''));
  }

  async close(): Promise<void> {
    await this.informers?.close();
    await this.cluster.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async setFault(name: string, on: boolean): Promise<void> {
    const done = await this.store.mutate('Node', undefined, name, (n) => {
      const annotations = { ...n.metadata?.annotations };
      if (on) annotations[FAULT_ANNOTATION] = 'stopped';
      else delete annotations[FAULT_ANNOTATION];
      return { ...n, metadata: { ...n.metadata, annotations } };
    });
    if (!done) throw new Error(`node ${name} not found`);
  }
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<KnetCluster> {
  const stateDir = opts.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'knet-'));
  const cluster = await startClusterProcesses({
    name: `t${process.pid}-${++counter}`,
    stateDir,
    index: opts.index,
    nodes: opts.nodes ?? 2,
    mode: opts.mode ?? 'single-process',
    components: opts.components,
    config: opts.config,
    crashBackoffMs: opts.crashBackoffMs ?? 100,
    removeStateOnClose: opts.stateDir === undefined,
  });
  const handle = new KnetCluster(cluster);
  if (opts.manifests) {
    try {
      await handle.apply(opts.manifests, { timeoutMs: opts.readyTimeoutMs });
    } catch (err) {
      await handle.close();
      throw err;
    }
  }
  return handle;
}

function toDocs(input: ManifestInput): ManifestDoc[] {
  const items = Array.isArray(input) ? input : [input];
  return items.flatMap((item, i) => {
    if (typeof item !== 'string') return [{ source: '<object>', index: i + 1, object: item }];
    if (/\n/.test(item) || /^\s*(apiVersion|kind)\s*:/m.test(item)) return parseManifestText(item, '<inline>');
    return readManifestPaths([item]);
  });
}

export { INGRESS_NAMESPACE, INGRESS_SERVICE };
