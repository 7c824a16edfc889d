/**
 * `knet port-forward (pod/NAME | svc/NAME | deploy/NAME | NAME) [LOCAL:]REMOTE…`, as kubectl
 * does it: pick one pod (the first by kubectl's "most active" order for a Service or
 * workload), translate the ports (a Service port to its targetPort, a named port to the
 * container's number), listen on --address (default localhost: 127.0.0.1 and ::1), and forward
 * each local connection into the pod. The pod choice, the port translation and the connection
 * into the pod are base/portforward's, the same code the apiserver's `pods/portforward` runs
 * for kubectl; here the connection goes straight from this process, where kubectl tunnels
 * through the API. Exits with "lost connection to pod" when that pod goes away.
 */
import net from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { StoreInformerFactory } from '../../base/store/watch.js';
import { connect, UsageError, type GlobalOptions } from '../connect.js';
import { attachablePod, forwardLost } from '../../base/portforward/select-pod.js';
import { podPortMappings, servicePortMappings, type PortMapping } from '../../base/portforward/ports.js';
import { forwardToPod } from '../../base/portforward/pod-connection.js';

export interface PortForwardOptions extends GlobalOptions {
  namespace?: string;
  /** Comma-separated addresses to listen on; `localhost` is 127.0.0.1 and ::1. */
  address?: string;
  /** Seconds to wait for a pod to exist (kubectl's --pod-running-timeout, 1m). */
  podRunningTimeout?: number;
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

    // Watch before listening, so a deletion in between is not missed.
    informers = new StoreInformerFactory(conn.store, { redisUrl: conn.redisUrl });
    const pods = informers.informer<Pod>('Pod');
    let lost!: (e: Error) => void;
    const podGone = new Promise<never>((_, reject) => (lost = reject));
    // Handled by the race below; this keeps a loss during setup from counting as unhandled.
    podGone.catch(() => {});
    const check = (p: Pod | undefined) => {
      if (forwardLost(pod, p)) lost(new Error('lost connection to pod'));
    };
    pods.on({
      delete: (p) => p.metadata?.uid === pod.metadata?.uid && check(undefined),
      update: (_o, p) => p.metadata?.uid === pod.metadata?.uid && check(p),
    });
    await informers.waitForSync();
    check(pods.get(namespace, pod.metadata!.name!));

    const { addresses, optional } = listenAddresses(opts.address ?? 'localhost');
    for (const m of mappings) {
      let bound = 0;
      for (const address of addresses) {
        // Half-open: a client that closes its sending side still gets the rest of the answer, as through kubectl.
        const server = net.createServer({ allowHalfOpen: true }, (client) => forward(client, m));
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
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      const f = forwardToPod(pod, m.remote, client, (message) => err(`E0000 an error occurred forwarding ${m.local} -> ${m.remote}: ${message}`));
      // Closed once what the pod sent is flushed to the client, as kubectl closes its local connection.
      void f.done.then(() => client.end(() => client.destroy()));
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
