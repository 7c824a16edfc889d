/**
 * Kubernetes Events, as client-go's event recorder writes them: one Event object per
 * (object, reason, message), with `count` and `lastTimestamp` bumped on repeats so a
 * crash-looping pod does not flood the store.
 */
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../store/object-store.js';
import type { KObject } from '../model/object.js';
import type { Logger } from '../log.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(involved: KObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every event recorded so far has been written. */
  flush(): Promise<void>;
}

export function createEventRecorder(store: ObjectStore, component: string, log?: Logger, host?: string): EventRecorder {
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  // Writes for one (object, reason, message) are ordered (they bump one Event's count);
  // different events are written concurrently so a burst of pods does not queue behind itself.
  const chains = new Map<string, Promise<void>>();
  const write = async (involved: KObject, type: EventType, reason: string, message: string) => {
    const namespace = involved.metadata?.namespace ?? 'default';
    const dedupeKey = `${involved.metadata?.uid ?? involved.metadata?.name}|${reason}|${message}`;
    const now = new Date().toISOString();
    const prior = seen.get(dedupeKey);
    if (prior) {
      prior.count++;
      const updated = await store.mutate('Event', prior.namespace, prior.name, (ev) => ({ ...ev, count: prior.count, lastTimestamp: now }));
      if (updated) return;
    }
    const name = `${involved.metadata?.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`;
    await store.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata?.name,
        namespace: involved.metadata?.namespace,
        uid: involved.metadata?.uid,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component, ...(host ? { host } : {}) },
      reportingComponent: component,
    });
    seen.set(dedupeKey, { name, namespace, count: 1 });
    if (seen.size > 5000) seen.delete(seen.keys().next().value!);
  };
  return {
    record(involved, type, reason, message) {
      log?.[type === 'Warning' ? 'warn' : 'info']('event', { object: `${involved.kind}/${involved.metadata?.namespace ?? ''}/${involved.metadata?.name}`, reason, message });
      const key = `${involved.metadata?.uid ?? involved.metadata?.name}|${reason}|${message}`;
      const next = (chains.get(key) ?? Promise.resolve())
        .then(() => write(involved, type, reason, message))
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
