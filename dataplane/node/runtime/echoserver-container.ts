/**
 * The ingress conformance echoserver image (…/ingressconformance/echoserver), served by the
 * ingress package's `startEchoserver` on each TCP containerPort (3000, the image's port, when
 * none is declared). The module is imported lazily so the node agent does not load ingress code
 * for pods that do not need it.
 *
 * TODO(echoserver): ingress/echoserver.ts is being written in parallel; until it exists (or if it
 * fails to load) these containers fall back to the identity responder, with a line in their log.
 */
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { EmulatedProcess, startListening } from './emulated-process.js';
import { startIdentityResponder } from './identity-responder.js';

type StartEchoserver = (opts: { address: string; port: number; env: Record<string, string> }) => Promise<{ close(): Promise<void> }>;

export type { StartEchoserver };

// A computed specifier: TypeScript must not require the module to exist at compile time.
export const ECHOSERVER_MODULE = ['..', '..', '..', 'ingress', 'echoserver.js'].join('/');

/** Imports a module relative to this file; undefined when it is missing or fails to load. */
export async function importOptional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch {
    return undefined;
  }
}

export async function loadEchoserver(specifier = ECHOSERVER_MODULE): Promise<StartEchoserver | undefined> {
  const mod = await importOptional<{ startEchoserver?: StartEchoserver }>(specifier);
  return typeof mod?.startEchoserver === 'function' ? mod.startEchoserver : undefined;
}

export async function startEchoserverContainer(ctx: ContainerContext, load: () => Promise<StartEchoserver | undefined> = () => loadEchoserver()): Promise<ContainerProcess> {
  const start = await load();
  if (!start) {
    ctx.log.write('knet: ingress/echoserver.ts is not available; answering with the knet identity responder\n');
    return startIdentityResponder(ctx);
  }
  const proc = new EmulatedProcess(ctx.podIP);
  const ports = (ctx.container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.containerPort);
  const handles: Array<{ close(): Promise<void> }> = [];
  const closeAll = () => Promise.allSettled(handles.map((h) => h.close()));
  // Closing is asynchronous; exit is reported once the listeners are gone.
  proc.onTerm = () => void closeAll().then(() => proc.exit(0));
  const env = Object.fromEntries(ctx.env);
  await startListening(proc, (m) => ctx.log.goLog(m), async () => {
    for (const port of ports.length > 0 ? ports : [3000]) {
      handles.push(await start({ address: ctx.podIP, port, env }));
      ctx.log.goLog(`Echoserver listening on ${ctx.podIP}:${port}`);
    }
  });
  void proc.exited.then(() => closeAll());
  return proc;
}
