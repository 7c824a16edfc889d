/**
 * `knet controller-manager`: kube-scheduler and kube-controller-manager in one process.
 *
 * Every controller reads the shared informer caches and writes through the store; each has
 * its own work queue. They start after the caches have synced, so the first pass of each sees
 * the whole cluster, and all of them share one Expectations tracker (a controller never acts
 * on a cache that has not yet seen its own last writes).
 */
import type { ObjectStore } from '../store/object-store.js';
import type { InformerFactory } from '../informer-types.js';
import type { ClusterConfig } from '../cluster-config.js';
import { silentLogger, type Logger } from '../log.js';
import { createEventRecorder, type EventRecorder } from '../api/events.js';
import type { Kind } from '../model/object.js';
import { ControllerWrites, type Controller, type ControllerContext } from './controller-context.js';
import { Expectations } from './expectations.js';
import { startScheduler } from './scheduler.js';
import { startReplicaSetController } from './replicaset.js';
import { startDeploymentController } from './deployment.js';
import { startStatefulSetController } from './statefulset.js';
import { startDaemonSetController } from './daemonset.js';
import { startEndpointSliceController } from './endpointslice.js';
import { startEndpointsController } from './endpoints.js';
import { startEndpointSliceMirroringController } from './endpointslice-mirroring.js';
import { startNodeLifecycleController } from './node-lifecycle.js';
import { startPodGarbageCollector } from './pod-gc.js';

export interface ControllerManagerOptions {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log?: Logger;
  /** One recorder for every controller; by default each gets its own, named as upstream's. */
  events?: EventRecorder;
  /** Node lifecycle: how often heartbeats are read (ms). */
  heartbeatPollMs?: number;
  /** Garbage collection pass interval (ms). */
  gcIntervalMs?: number;
}

export interface ControllerManager {
  close(): Promise<void>;
}

/** Kinds the controllers read; asked for up front so the first list covers them all at once. */
const WATCHED: Kind[] = ['Node', 'Pod', 'Service', 'Endpoints', 'EndpointSlice', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet'];

export async function startControllerManager(opts: ControllerManagerOptions): Promise<ControllerManager> {
  const log = (opts.log ?? silentLogger).child('controller-manager');
  for (const kind of WATCHED) opts.informers.informer(kind);
  await opts.informers.waitForSync();

  const expectations = new Expectations((kind) => opts.informers.informer(kind));
  for (const kind of WATCHED) expectations.track(kind);
  const recorders = new Map<string, EventRecorder>();
  const ctx: ControllerContext = {
    store: opts.store,
    informers: opts.informers,
    config: opts.config,
    log,
    recorder(component) {
      if (opts.events) return opts.events;
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = createEventRecorder(opts.store, component, log.child('events'))));
      return r;
    },
    writes: new ControllerWrites(opts.store, expectations),
    now: () => Date.now(),
  };

  const controllers: Controller[] = [
    startScheduler(ctx),
    startReplicaSetController(ctx),
    startDeploymentController(ctx),
    startStatefulSetController(ctx),
    startDaemonSetController(ctx),
    startEndpointSliceController(ctx),
    startEndpointsController(ctx),
    startEndpointSliceMirroringController(ctx),
    startNodeLifecycleController(ctx, { pollMs: opts.heartbeatPollMs }),
    startPodGarbageCollector(ctx, { intervalMs: opts.gcIntervalMs }),
  ];
  log.info('controller-manager started', { controllers: controllers.length, nodeGraceSeconds: opts.config.nodeGraceSeconds });

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        await Promise.all(controllers.map((c) => c.close()));
        expectations.close();
        await flushWithin([...recorders.values(), ...(opts.events ? [opts.events] : [])], 2000);
        log.info('controller-manager stopped');
      })();
      return closed;
    },
  };
}

/** Waits for pending event writes, but never longer than `ms` (the store may be gone). */
async function flushWithin(recorders: EventRecorder[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.all(recorders.map((r) => r.flush())), timeout]);
  clearTimeout(timer);
}
