/**
 * `knet controller-manager`: kube-scheduler and kube-controller-manager in one process.
 *
 * Every controller reads the shared informer caches and writes through the store; each has
 * its own work queue. They start after the caches have synced, so the first pass of each sees
 * the whole cluster, and all of them share one Expectations tracker (a controller never acts
 * on a cache that has not yet seen its own last writes).
 */
import type { ObjectStore } from '../base/store/object-store.js';
import type { InformerFactory } from '../base/informer/informer-types.js';
import type { ClusterConfig } from '../base/cluster-config.js';
import { silentLogger, type Logger } from '../base/log.js';
import { hostname } from 'node:os';
import { createEventRecorder, createEventsV1Recorder, type EventRecorder } from '../base/admission/events.js';
import { realClock, type Clock } from '../base/clock.js';
import { KINDS, type KObject, type Kind } from '../base/model/object.js';
import { namespaceNotFound } from '../base/store/errors.js';
import { namespaceTerminating } from '../base/admission/write-plan.js';
import { ControllerWrites, type Controller, type ControllerContext, type CreateAdmission } from './controller-context.js';
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
import { GC_KINDS, startGarbageCollector } from './garbage-collector.js';
import { startNamespaceController } from './namespace.js';
import { runPeriodically } from './periodic.js';
import { eventTTLSeconds } from '../base/cluster-config.js';
import { startServiceAccountsController } from './serviceaccounts.js';
import { startRootCAPublisher } from './root-ca-publisher.js';
import { startLeaderLeases } from './leader-leases.js';
import type { Namespace, PersistentVolumeClaim, Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { admitDefaultStorageClass } from '../base/admission/default-storage-class.js';
import { admitPodServiceAccount } from '../base/admission/writes.js';
import { podServiceAccountName } from '../base/admission/service-account.js';
import { startJobController } from './job.js';
import { startTTLAfterFinishedController } from './ttl-after-finished.js';
import { startCronJobController } from './cronjob.js';
import { startPersistentVolumeController } from './persistentvolume.js';
import { startLocalPathProvisioner } from './local-path-provisioner.js';
import { startDisruptionController } from './disruption.js';

export interface ControllerManagerOptions {
  store: ObjectStore;
  informers: InformerFactory;
  config: ClusterConfig;
  log?: Logger;
  /** Node lifecycle: how often heartbeats are read (ms). */
  heartbeatPollMs?: number;
  /** Pod garbage collection pass interval (ms). */
  gcIntervalMs?: number;
  /** How often expired Events are removed (ms); by default a tenth of the TTL, between 1 s and 60 s. */
  eventSweepMs?: number;
  /** The cluster CA in PEM, for the kube-root-ca.crt ConfigMaps (read when needed; undefined: none). */
  rootCA?: () => string | undefined;
  /** The time Jobs and CronJobs run on (see ControllerContext.clock); real time by default. */
  clock?: Clock;
  /** The Job controller's first back-off before replacing failed pods (10 s, as Kubernetes). */
  jobBackoffMs?: number;
  /** The cluster's PersistentVolume directories (base/persistent-volume-dir.ts): the PV controller removes a deleted Delete volume's. */
  persistentVolumesDir?: string;
}

export interface ControllerManager {
  close(): Promise<void>;
}

/** Kinds the controllers read (the garbage collector: all but Event, Jobs, CronJobs, ServiceAccounts and ConfigMaps included); asked for up front so the first list covers them all at once. */
const WATCHED: Kind[] = GC_KINDS;

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
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = newRecorder(opts.store, component, log.child('events'), opts.config)));
      return r;
    },
    writes: new ControllerWrites(opts.store, expectations, createAdmission(opts), opts.config),
    now: () => Date.now(),
    clock: opts.clock ?? realClock,
  };

  const controllers: Controller[] = [
    startScheduler(ctx),
    startReplicaSetController(ctx),
    startReplicaSetController(ctx, 'ReplicationController'),
    startDeploymentController(ctx),
    startStatefulSetController(ctx),
    startDaemonSetController(ctx),
    startJobController(ctx, { backoffBaseMs: opts.jobBackoffMs }),
    startTTLAfterFinishedController(ctx),
    startCronJobController(ctx),
    startDisruptionController(ctx),
    startEndpointSliceController(ctx),
    startEndpointsController(ctx),
    startEndpointSliceMirroringController(ctx),
    startNodeLifecycleController(ctx, { pollMs: opts.heartbeatPollMs }),
    startPodGarbageCollector(ctx, { intervalMs: opts.gcIntervalMs }),
    startGarbageCollector(ctx),
    startNamespaceController(ctx, WATCHED),
    startEventExpiry(ctx, opts.eventSweepMs),
    startServiceAccountsController(ctx),
    startRootCAPublisher(ctx, opts.rootCA ?? (() => undefined)),
    startLeaderLeases(ctx),
    startPersistentVolumeController(ctx, { volumesDir: opts.persistentVolumesDir }),
    startLocalPathProvisioner(ctx),
  ];
  log.info('controller-manager started', { controllers: controllers.length, nodeGraceSeconds: opts.config.nodeGraceSeconds });

  let closed: Promise<void> | undefined;
  return {
    close() {
      closed ??= (async () => {
        await Promise.all(controllers.map((c) => c.close()));
        expectations.close();
        await flushWithin([...recorders.values()], 2000);
        log.info('controller-manager stopped');
      })();
      return closed;
    },
  };
}

/**
/**
 * Events expire (kube-apiserver's --event-ttl; etcd's leases do it there): every write gives an
 * Event a new expiry, and this loop removes those past it, in batches, each with a DELETED event.
 */
function startEventExpiry(ctx: ControllerContext, sweepMs?: number): Controller {
  const log = ctx.log.child('event-ttl');
  const ttl = eventTTLSeconds(ctx.config);
  const every = sweepMs ?? Math.min(60_000, Math.max(1000, (ttl * 1000) / 10));
  return runPeriodically(
    async () => {
      let removed = 0;
      for (let n = 500; n === 500; removed += n) n = await ctx.store.expire(ctx.now(), 500);
      if (removed) log.debug('expired events removed', { count: removed, ttlSeconds: ttl });
    },
    every,
    log,
    'event expiry pass',
  );
}

/**
 * The admission plugins for what controllers create, reading as the plugins do: from the cache,
 * else (just created, the cache behind) from the store, as their live lookups.
 * NamespaceLifecycle: nothing new in a Terminating namespace (the namespace controller is
 * emptying it: a ReplicaSet's replacement pods or the `default` ServiceAccount would keep it
 * from ever going), nor in one that is gone. ServiceAccount: every pod's service account.
 * DefaultStorageClass: a claim without a class (a StatefulSet's) gets the default one.
 */
function createAdmission(opts: ControllerManagerOptions): CreateAdmission {
  const namespaces = opts.informers.informer<Namespace>('Namespace');
  const accounts = opts.informers.informer<ServiceAccount>('ServiceAccount');
  const storageClasses = opts.informers.informer<StorageClass>('StorageClass');
  return async <T extends KObject>(obj: T): Promise<T> => {
    const kind = obj.kind as Kind;
    if (!KINDS[kind]?.namespaced) return obj;
    const ns = obj.metadata?.namespace || 'default';
    const namespace = namespaces.get(undefined, ns) ?? (await opts.store.get<Namespace>('Namespace', undefined, ns));
    if (!namespace) throw namespaceNotFound(ns);
    if (namespace.metadata?.deletionTimestamp) throw namespaceTerminating(kind, obj.metadata?.name ?? '', ns);
    if (kind === 'PersistentVolumeClaim') return admitDefaultStorageClass(obj as unknown as PersistentVolumeClaim, storageClasses.list()) as unknown as T;
    if (kind !== 'Pod') return obj;
    const pod = obj as unknown as Pod;
    const name = podServiceAccountName(pod);
    const sa = accounts.get(ns, name) ?? (await opts.store.get<ServiceAccount>('ServiceAccount', ns, name));
    return admitPodServiceAccount(pod, sa) as unknown as T;
  };
}

/**
 * A controller's event recorder, reporting as its upstream counterpart: kube-scheduler through
 * events.k8s.io (reportingInstance `default-scheduler-<host>`), the controllers through
 * client-go's core/v1 recorder with their own names as the source (`replicaset-controller`).
 */
function newRecorder(store: ObjectStore, component: string, log: Logger, config: ClusterConfig): EventRecorder {
  if (component === 'default-scheduler') return createEventsV1Recorder(store, { controller: component, instance: `${component}-${hostname()}` }, log, config);
  return createEventRecorder(store, { component }, log, config);
}

/** Waits for pending event writes, but never longer than `ms` (the store may be gone). */
async function flushWithin(recorders: EventRecorder[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.all(recorders.map((r) => r.flush())), timeout]);
  clearTimeout(timer);
}
