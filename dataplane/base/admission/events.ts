/**
 * Kubernetes Events, stored as a real cluster stores them (core/v1 Event), written by one of
 * client-go's two recorders:
 *
 * - `createEventRecorder` — client-go's `tools/record`, what the kubelet and the controllers use:
 *   `source: {component, host}`, `reportingComponent`/`reportingInstance` the same, `count`,
 *   `firstTimestamp`, `lastTimestamp`; a repeat of (object, fieldPath, reason, message) bumps
 *   `count` and `lastTimestamp` on one Event so a crash-looping pod does not flood the store.
 * - `createEventsV1Recorder` — client-go's `tools/events` (events.k8s.io/v1), what the scheduler
 *   uses: `eventTime` in microseconds, `action`, `reportingComponent`/`reportingInstance`, an
 *   empty `source`, no count or timestamps; a repeat becomes a `series` {count, lastObservedTime}.
 *
 * Both name an Event `<object>.<unix nanoseconds in hex>` (client-go's `%v.%x`), so the store's
 * name order is each object's events in time order, as `kubectl get events` lists them.
 * `involvedObject` is the object's reference (ref.GetReference: apiVersion, kind, namespace,
 * name, uid, resourceVersion), with `fieldPath` (`spec.containers{web}`) for a container's events.
 *
 * Each write renews the Event's expiry (the cluster's eventTTLSeconds, an hour by default, as
 * kube-apiserver's --event-ttl); Events are not deleted with the object they are about (nor are
 * they upstream: no ownerReferences).
 */
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import { StoreError } from '../store/errors.js';
import type { KObject } from '../model/object.js';
import type { Logger } from '../log.js';
import { metaTime, microTime } from '../model/meta-time.js';
import type { ClusterConfig } from '../cluster-config.js';
import { expiryOf } from './write-plan.js';

/** Where the Event TTL comes from (undefined: the default hour). */
type EventTTL = Pick<ClusterConfig, 'eventTTLSeconds'> | undefined;

export type EventType = 'Normal' | 'Warning';

export interface RecordOptions {
  /** The part of the object the event is about: `spec.containers{web}` (the kubelet's container events). */
  fieldPath?: string;
  /** events.k8s.io's `action` (what was done or failed: the scheduler's `Binding`, `Scheduling`). */
  action?: string;
}

export interface EventRecorder {
  record(involved: KObject, type: EventType, reason: string, message: string, opts?: RecordOptions): void;
  /** Resolves when every event recorded so far has been written. */
  flush(): Promise<void>;
}

/** client-go's EventSource: who reports (`kubelet`, `replicaset-controller`) and on which host. */
export interface EventSource {
  component: string;
  host?: string;
}

let lastNanos = 0n;

/** client-go's event names: the object's name, a dot, the time in nanoseconds as hex. */
export function eventName(objectName: string, nowMs = Date.now()): string {
  // Sub-millisecond digits from the monotonic clock, so two processes naming an event for one
  // object in one millisecond still differ (a clash is retried with a new name); never below the
  // last name this process gave, so one recorder's events sort in the order they were recorded.
  let nanos = BigInt(nowMs) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return `${objectName}.${nanos.toString(16)}`;
}

/** ref.GetReference: what an Event says it is about. */
export function objectReference(o: KObject, fieldPath?: string): ObjectReference {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
    name: o.metadata?.name,
    uid: o.metadata?.uid,
    ...(o.metadata?.resourceVersion ? { resourceVersion: o.metadata.resourceVersion } : {}),
    ...(fieldPath ? { fieldPath } : {}),
  };
}

/** What both recorders write alike: what happened (type, reason, message) to which object. */
function eventAbout(ref: ObjectReference, type: EventType, reason: string, message: string): Pick<Event, 'apiVersion' | 'kind' | 'involvedObject' | 'reason' | 'message' | 'type'> {
  return { apiVersion: 'v1', kind: 'Event', involvedObject: ref, reason, message, type };
}

interface Shape {
  /** The Event for a first occurrence (without metadata). */
  first(ref: ObjectReference, type: EventType, reason: string, message: string, opts: RecordOptions): Omit<Event, 'metadata'>;
  /** The Event after its `count`-th occurrence. */
  repeat(ev: Event, count: number): Event;
}

/** client-go tools/record (core/v1): the kubelet's and the controllers' events. */
export function createEventRecorder(store: ObjectStore, source: EventSource, log?: Logger, config?: EventTTL): EventRecorder {
  return recorder(store, log, config, {
    first: (ref, type, reason, message) => {
      const now = metaTime();
      return {
        ...eventAbout(ref, type, reason, message),
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
        reportingComponent: source.component,
        reportingInstance: source.host ?? '',
      };
    },
    repeat: (ev, count) => ({ ...ev, count, lastTimestamp: metaTime() }),
  });
}

/** client-go tools/events (events.k8s.io/v1): the scheduler's events. */
export function createEventsV1Recorder(store: ObjectStore, reporting: { controller: string; instance: string }, log?: Logger, config?: EventTTL): EventRecorder {
  return recorder(store, log, config, {
    first: (ref, type, reason, message, opts) => ({
      ...eventAbout(ref, type, reason, message),
      ...(opts.action ? { action: opts.action } : {}),
      eventTime: microTime(),
      source: {},
      reportingComponent: reporting.controller,
      reportingInstance: reporting.instance,
    }),
    repeat: (ev, count) => ({ ...ev, series: { count, lastObservedTime: microTime() } }),
  });
}

function recorder(store: ObjectStore, log: Logger | undefined, config: EventTTL, shape: Shape): EventRecorder {
  const expiry = () => expiryOf({ kind: 'Event' }, config);
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  // Writes for one (object, reason, message) are ordered (they bump one Event's count);
  // different events are written concurrently so a burst of pods does not queue behind itself.
  const chains = new Map<string, Promise<void>>();
  const write = async (key: string, involved: KObject, type: EventType, reason: string, message: string, opts: RecordOptions) => {
    const namespace = involved.metadata?.namespace ?? 'default';
    const prior = seen.get(key);
    if (prior) {
      prior.count++;
      const count = prior.count;
      const updated = await store.mutate<Event>('Event', prior.namespace, prior.name, (ev) => shape.repeat(ev, count), { extra: expiry() });
      if (updated) return;
    }
    const body = shape.first(objectReference(involved, opts.fieldPath), type, reason, message, opts);
    for (let attempt = 0; ; attempt++) {
      const name = eventName(involved.metadata?.name ?? 'unknown');
      try {
        await store.create({ ...body, metadata: { name, namespace } } as KObject, expiry());
        seen.set(key, { name, namespace, count: 1 });
        break;
      } catch (err) {
        if (!(err instanceof StoreError && err.reason === 'AlreadyExists') || attempt >= 3) throw err;
      }
    }
    if (seen.size > 5000) seen.delete(seen.keys().next().value!);
  };
  return {
    record(involved, type, reason, message, opts = {}) {
      log?.[type === 'Warning' ? 'warn' : 'info']('event', { object: `${involved.kind}/${involved.metadata?.namespace ?? ''}/${involved.metadata?.name}`, reason, message });
      const key = `${involved.metadata?.uid ?? involved.metadata?.name}|${opts.fieldPath ?? ''}|${reason}|${message}`;
      const next = (chains.get(key) ?? Promise.resolve())
        .then(() => write(key, involved, type, reason, message, opts))
        .catch((err) => log?.warn('could not record event', { error: err as Error, reason }));
      chains.set(key, next);
      void next.then(() => {
        if (chains.get(key) === next) chains.delete(key);
      });
    },
    flush: async () => {
      await Promise.all([...chains.values()]);
    },
  };
}

/** Events that are only knet's own remarks and must not fail anything. */
export const noopRecorder: EventRecorder = { record() {}, flush: async () => {} };
