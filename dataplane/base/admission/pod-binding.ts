/**
 * Binding a Pod to a node (POST pods/NAME/binding; the scheduler's bind): one write that sets
 * spec.nodeName and PodScheduled=True, guarded by the Pod's resourceVersion. spec.nodeName is
 * otherwise immutable, so this is the only way a Pod gets a node after its creation.
 */
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import { StoreError } from '../store/errors.js';
import { withCondition } from '../model/conditions.js';

/** Writes the binding against `current` (Conflict if it changed since); returns the bound Pod. */
export async function bindPod(store: ObjectStore, current: Pod, nodeName: string, now: string): Promise<Pod> {
  const name = current.metadata?.name ?? '';
  if (current.spec?.nodeName) {
    throw new StoreError('Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${current.spec.nodeName}"`);
  }
  if (current.metadata?.deletionTimestamp) {
    throw new StoreError('Conflict', `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`);
  }
  const next: Pod = {
    ...store.prepareUpdate(current, { ...current, spec: { ...current.spec!, nodeName } }),
    status: {
      ...current.status,
      phase: current.status?.phase ?? 'Pending',
      conditions: withCondition<PodCondition>(current.status?.conditions, { type: 'PodScheduled', status: 'True' }, now),
    },
  };
  const [rv] = await store.commit([{ kind: 'Pod', key: `${next.metadata!.namespace}/${name}`, mode: 'update', expectRv: current.metadata?.resourceVersion, json: store.serialize(next) }], [next]);
  return { ...next, metadata: { ...next.metadata, resourceVersion: String(rv) } };
}
