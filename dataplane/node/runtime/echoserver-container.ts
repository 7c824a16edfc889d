/**
 * The ingress conformance echoserver image (…/ingressconformance/echoserver), served by the
 * ingress package's `startEchoserver` on each TCP containerPort (3000, the image's port, when
 * none is declared). The module is imported lazily so the node agent does not load ingress code
 * for pods that do not need it.
 */
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { EmulatedProcess, startListening } from './emulated-process.js';
import type { ListenerGate } from './pod-ingress.js';

type StartEchoserver = (opts: { address: string; port: number; env: Record<string, string>; gate?: ListenerGate }) => Promise<{ close(): Promise<void> }>;

export type { StartEchoserver };

const loadEchoserver = async (): Promise<StartEchoserver> => (await import('./echoserver.js')).startEchoserver;

export async function startEchoserverContainer(ctx: ContainerContext, load: () => Promise<StartEchoserver> = loadEchoserver): Promise<ContainerProcess> {
  const start = await load();
  const proc = new EmulatedProcess(ctx.podIP, ctx.netpol);
  const ports = (ctx.container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
  const handles: Array<{ close(): Promise<void> }> = [];
  const closeAll = () => {
    // Connections a policy holds silent are the pod's too; a listener's close waits for them.
    proc.destroyConnections();
    return Promise.allSettled(handles.map((h) => h.close()));
  };
  // Closing is asynchronous; exit is reported once the listeners are gone.
  proc.onTerm = () => void closeAll().then(() => proc.exit(0));
  const env = Object.fromEntries(ctx.env);
  await startListening(proc, (m) => ctx.log.goLog(m), async () => {
    for (const port of ports.length > 0 ? ports : [3000]) {
      handles.push(await start({ address: ctx.podIP, port, env, gate: proc.gate }));
      ctx.log.goLog(`Echoserver listening on ${ctx.podIP}:${port}`);
    }
  });
  void proc.exited.then(() => closeAll());
  return proc;
}
