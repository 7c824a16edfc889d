/**
 * `knet port-forward (pod/NAME | svc/NAME | deploy/NAME | NAME) [LOCAL:]REMOTE…`, as kubectl
 * does it: pick one pod (the first by kubectl's "most active" order for a Service or
 * workload), translate the ports (a Service port to its targetPort, a named port to the
 * container's number), listen on --address (default localhost: 127.0.0.1 and ::1), and copy
 * each local connection to the pod. Pods are real listeners on their pod IP, so the copy is a
 * plain TCP connection where kubectl tunnels through the kubelet; like kubectl's, it comes
 * from 127.0.0.1. Exits with "lost connection to pod" when that pod goes away.
 */
import net from 'node:net';
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { KObject } from '../../model/object.js';
import { matchesLabelSelector, matchesServiceSelector } from '../../model/selector.js';
import type { ObjectStore } from '../../store/object-store.js';
import { StoreInformerFactory } from '../../store/watch.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';
import { resolveKind } from '../resources.js';

export interface PortForwardOptions extends GlobalOptions {
  namespace?: string;
  /** Comma-separated addresses to listen on; `localhost` is 127.0.0.1 and ::1. */
  address?: string;
  /** Seconds to wait for a pod to exist (kubectl's --pod-running-timeout, 1m). */
  podRunningTimeout?: number;
}

export interface PortMapping {
  /** 0: any free port. */
  local: number;
  remote: number;
}

const splitPort = (spec: string): [string, string] => {
  const parts = spec.split(':');
  return parts.length === 2 ? [parts[0]!, parts[1]!] : [parts[0]!, parts[0]!];
};

function containerPortByName(pod: Pod, name: string): number {
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])] as Container[]) {
    const p = c.ports?.find((cp) => cp.name === name);
    if (p) return p.containerPort;
  }
  throw new UsageError(`Pod '${pod.metadata?.name}' does not have a named port '${name}'`);
}

function toMapping(spec: string, local: string, remote: number): PortMapping {
  const localNum = local === '' ? 0 : Number(local);
  if (!Number.isInteger(localNum) || localNum < 0 || localNum > 65535) throw new UsageError(`Error parsing local port '${local}': invalid port in "${spec}"`);
  if (!Number.isInteger(remote) || remote <= 0 || remote > 65535) throw new UsageError(`Error parsing remote port '${remote}': invalid port in "${spec}"`);
  return { local: localNum, remote };
}

/** A pod's ports: "8080", "9000:8080", ":8080" (any free local port), "http" (a named containerPort). */
export function podPortMappings(specs: readonly string[], pod: Pod): PortMapping[] {
  return specs.map((spec) => {
    const [local, remote] = splitPort(spec);
    const remoteNum = /^\d+$/.test(remote) ? Number(remote) : containerPortByName(pod, remote);
    return toMapping(spec, local === remote ? String(remoteNum) : local, remoteNum);
  });
}

/**
 * A Service's ports (kubectl's translateServicePortToTargetPort): REMOTE names a service port
 * by number or name and is forwarded to its targetPort on the pod; with no LOCAL the local
 * port is the service port.
 */
export function servicePortMappings(specs: readonly string[], svc: Service, pod: Pod): PortMapping[] {
  const name = svc.metadata?.name;
  return specs.map((spec) => {
    const [local, remote] = splitPort(spec);
    const sp = /^\d+$/.test(remote) ? svc.spec?.ports?.find((p) => p.port === Number(remote)) : svc.spec?.ports?.find((p) => p.name === remote);
    if (!sp) throw new UsageError(/^\d+$/.test(remote) ? `Service ${name} does not have a service port ${remote}` : `Service '${name}' does not have a named port '${remote}'`);
    const target = sp.targetPort;
    const remoteNum = typeof target === 'string' && !/^\d+$/.test(target) ? containerPortByName(pod, target) : Number(target ?? 0) || sp.port;
    return toMapping(spec, local === remote ? String(sp.port) : local, remoteNum);
  });
}

/**
 * kubectl's choice among a Service's or workload's pods (sort.Reverse(ActivePods)): assigned
 * to a node, Running, Ready, ready the longest, fewest restarts, oldest. knet also puts pods
 * being deleted last, since the forward would end as soon as it began.
 */
export function mostActivePod(pods: readonly Pod[]): Pod | undefined {
  const phase = (p: Pod) => ({ Running: 2, Unknown: 1, Pending: 0 })[p.status?.phase ?? 'Pending'] ?? -1;
  const readySince = (p: Pod) => {
    const c = p.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
    return c ? Date.parse(c.lastTransitionTime ?? '') || Infinity : undefined;
  };
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const created = (p: Pod) => Date.parse(p.metadata?.creationTimestamp ?? '') || Infinity;
  const keys = (p: Pod): number[] => {
    const ready = readySince(p);
    return [p.metadata?.deletionTimestamp ? 1 : 0, p.spec?.nodeName ? 0 : 1, -phase(p), ready === undefined ? 1 : 0, ready ?? 0, restarts(p), created(p)];
  };
  return [...pods].sort((a, b) => {
    const ka = keys(a);
    const kb = keys(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  })[0];
}

interface Target {
  pod: Pod;
  service?: Service;
}

/** The pod to forward to, waiting up to timeoutMs for a Service's or workload's first pod. */
async function attachablePod(store: ObjectStore, namespace: string, ref: string, timeoutMs: number): Promise<Target> {
  const [kindArg, name] = ref.includes('/') ? ref.split('/', 2) : ['pod', ref];
  if (!name) throw new UsageError(`expected TYPE/NAME or a pod name, got "${ref}"`);
  const kind = resolveKind(kindArg!);
  if (kind === 'Pod') {
    const pod = await store.get<Pod>('Pod', namespace, name);
    if (!pod) throw new Error(`pods "${name}" not found`);
    return { pod };
  }
  if (!['Service', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(kind)) throw new UsageError(`cannot attach to ${kind}: not implemented`);
  const obj = await store.get<KObject & { spec?: { selector?: unknown } }>(kind, namespace, name);
  if (!obj) throw new Error(`${kind.toLowerCase()}s${kind === 'Service' ? '' : '.apps'} "${name}" not found`);
  const service = kind === 'Service' ? (obj as Service) : undefined;
  if (service && !Object.keys(service.spec?.selector ?? {}).length) throw new UsageError(`invalid service '${name}': Service is defined without a selector`);
  const selects = (p: Pod) =>
    service ? matchesServiceSelector(service.spec?.selector, p.metadata?.labels) : matchesLabelSelector(obj.spec?.selector as LabelSelector | undefined, p.metadata?.labels);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = ((await store.list<Pod>('Pod', namespace)).items as Pod[]).filter(selects);
    const pod = mostActivePod(pods);
    if (pod) return service ? { pod, service } : { pod };
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const listenAddresses = (address: string): { addresses: string[]; optional: Set<string> } => {
  const list = address.split(',').map((a) => a.trim()).filter(Boolean);
  const addresses = list.flatMap((a) => (a === 'localhost' ? ['127.0.0.1', '::1'] : [a]));
  // kubectl's localhost is "127.0.0.1 and ::1 where they exist": a missing ::1 is no error.
  return { addresses: [...new Set(addresses)], optional: new Set(list.includes('localhost') ? ['::1'] : []) };
};

const shown = (address: string) => (address.includes(':') ? `[${address}]` : address);

export async function portForwardCommand(ref: string, specs: string[], opts: PortForwardOptions, out: (s: string) => void, err: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<void> {
  if (!specs.length) throw new UsageError('TYPE/NAME and list of ports are required for port-forward');
  const namespace = opts.namespace ?? 'default';
  const conn = await connect(opts);
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  let informers: StoreInformerFactory | undefined;
  let onSignal: (() => void) | undefined;
  try {
    const { pod, service } = await attachablePod(conn.store, namespace, ref, (opts.podRunningTimeout ?? 60) * 1000);
    if (pod.status?.phase !== 'Running' || !pod.status.podIP) throw new Error(`unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Pending'}`);
    const mappings = service ? servicePortMappings(specs, service, pod) : podPortMappings(specs, pod);
    const podName = pod.metadata!.name!;
    const podIP = pod.status.podIP;

    // Watch before listening, so a deletion in between is not missed.
    informers = new StoreInformerFactory(conn.store, { redisUrl: conn.redisUrl });
    const pods = informers.informer<Pod>('Pod');
    let lost!: (e: Error) => void;
    const podGone = new Promise<never>((_, reject) => (lost = reject));
    // Handled by the race below; this keeps a loss during setup from counting as unhandled.
    podGone.catch(() => {});
    const check = (p: Pod | undefined) => {
      if (!p || p.metadata?.uid !== pod.metadata?.uid || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') lost(new Error('lost connection to pod'));
    };
    pods.on({
      delete: (p) => p.metadata?.uid === pod.metadata?.uid && lost(new Error('lost connection to pod')),
      update: (_o, p) => p.metadata?.uid === pod.metadata?.uid && check(p),
    });
    await informers.waitForSync();
    check(pods.get(namespace, podName));

    const { addresses, optional } = listenAddresses(opts.address ?? 'localhost');
    for (const m of mappings) {
      let bound = 0;
      for (const address of addresses) {
        const server = net.createServer((client) => forward(client, m));
        const failure = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
          server.once('error', resolve);
          server.listen({ host: address, port: m.local }, () => resolve(undefined));
        });
        if (failure) {
          if (optional.has(address)) continue;
          throw new Error(`unable to listen on port ${m.local}: Listeners failed to create with the following errors: [unable to create listener: Error listen tcp4 ${shown(address)}:${m.local}: bind: ${failure.code === 'EADDRINUSE' ? 'address already in use' : failure.message}]`);
        }
        servers.push(server);
        bound++;
        // A random local port (":REMOTE") is chosen once, then used on every address.
        m.local = (server.address() as net.AddressInfo).port;
        out(`Forwarding from ${shown(address)}:${m.local} -> ${m.remote}`);
      }
      if (!bound) throw new Error(`unable to listen on any of the requested ports: ${JSON.stringify(mappings)}`);
    }

    function forward(client: net.Socket, m: PortMapping): void {
      out(`Handling connection for ${m.local}`);
      const upstream = net.connect({ host: podIP, port: m.remote });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
      }
      upstream.once('error', (e: NodeJS.ErrnoException) => {
        err(`E0000 an error occurred forwarding ${m.local} -> ${m.remote}: error forwarding port ${m.remote} to pod ${podName}: dial tcp4 ${podIP}:${m.remote}: connect: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`);
        client.destroy();
      });
      client.once('error', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    }

    const stopped = new Promise<void>((resolve) => {
      onSignal = resolve;
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await Promise.race([stopped, podGone]);
  } finally {
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await informers?.close();
    await conn.close();
  }
}
