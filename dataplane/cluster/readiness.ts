/**
 * "Is what I applied ready?" — workloads with all replicas Ready and Services whose
 * EndpointSlices list every ready pod they select. Used by `knet up`/`apply --wait` and the
 * test API, with a progress line while waiting and, on timeout, an error that names what is
 * not ready and why (its last events and pod states).
 */
import type { Pod, Service, Event } from 'kubernetes-types/core/v1.js';
import type { Deployment, StatefulSet, DaemonSet, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectStore } from '../store/object-store.js';
import type { KObject } from '../model/object.js';
import { podStatusText } from '../cli/printers.js';

export interface Readiness {
  ready: boolean;
  /** One line per object that is not ready yet. */
  waiting: string[];
}

const labelsMatch = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const podReady = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

export async function checkReadiness(store: ObjectStore, objects: KObject[]): Promise<Readiness> {
  const { byKind } = await store.listKinds(['Pod', 'EndpointSlice', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet']);
  const pods = (byKind.get('Pod') ?? []) as Pod[];
  const slices = (byKind.get('EndpointSlice') ?? []) as unknown as EndpointSlice[];
  const current = (o: KObject) => (byKind.get(o.kind as 'Deployment') ?? []).find((x) => x.metadata?.name === o.metadata?.name && x.metadata?.namespace === o.metadata?.namespace);
  const waiting: string[] = [];
  for (const o of objects) {
    const name = `${o.kind?.toLowerCase()}/${o.metadata?.name}`;
    switch (o.kind) {
      case 'Deployment':
      case 'ReplicaSet':
      case 'StatefulSet': {
        const live = current(o) as Deployment | ReplicaSet | StatefulSet | undefined;
        const want = live?.spec?.replicas ?? 1;
        const ready = live?.status?.readyReplicas ?? 0;
        const updated = o.kind === 'Deployment' ? ((live as Deployment | undefined)?.status?.updatedReplicas ?? 0) : want;
        const observed = (live?.status?.observedGeneration ?? 0) >= (live?.metadata?.generation ?? 1);
        if (!live || ready < want || updated < want || !observed || (live.status?.replicas ?? 0) > want) waiting.push(`${name}: ${ready}/${want} ready`);
        break;
      }
      case 'DaemonSet': {
        const live = current(o) as DaemonSet | undefined;
        const want = live?.status?.desiredNumberScheduled ?? 0;
        const ready = live?.status?.numberReady ?? 0;
        if (!live || want === 0 || ready < want) waiting.push(`${name}: ${ready}/${want} ready`);
        break;
      }
      case 'Pod': {
        const p = pods.find((x) => x.metadata?.name === o.metadata?.name && x.metadata?.namespace === o.metadata?.namespace);
        if (!p || !podReady(p)) waiting.push(`${name}: ${p ? podStatusText(p) : 'not found'}`);
        break;
      }
      case 'Service': {
        const svc = o as Service;
        if (!svc.spec?.selector) break;
        const selected = pods.filter((p) => p.metadata?.namespace === svc.metadata?.namespace && labelsMatch(svc.spec?.selector, p.metadata?.labels as Record<string, string>) && podReady(p));
        const listed = new Set(
          slices
            .filter((s) => s.metadata?.namespace === svc.metadata?.namespace && s.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name)
            .flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0])),
        );
        const missing = selected.filter((p) => !listed.has(p.status?.podIP ?? ''));
        if (missing.length) waiting.push(`${name}: ${listed.size}/${selected.length} endpoints ready`);
        break;
      }
    }
  }
  return { ready: waiting.length === 0, waiting };
}

export interface WaitOptions {
  timeoutMs?: number;
  onProgress?: (waiting: string[]) => void;
  signal?: AbortSignal;
}

export async function waitForReady(store: ObjectStore, objects: KObject[], opts: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = '';
  for (;;) {
    const r = await checkReadiness(store, objects);
    if (r.ready) return;
    const line = r.waiting.join('; ');
    if (line !== last) {
      opts.onProgress?.(r.waiting);
      last = line;
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${Math.round((opts.timeoutMs ?? 60_000) / 1000)}s: ${line}\n${await explain(store, objects)}`);
    if (opts.signal?.aborted) throw new Error('aborted');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The last warning events and the pods' states, so a failure explains itself. */
export async function explain(store: ObjectStore, objects: KObject[]): Promise<string> {
  const namespaces = new Set(objects.map((o) => o.metadata?.namespace ?? 'default'));
  const { byKind } = await store.listKinds(['Event', 'Pod']);
  const events = ((byKind.get('Event') ?? []) as unknown as Event[])
    .filter((e) => namespaces.has(e.metadata?.namespace ?? ''))
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
    .slice(-10)
    .map((e) => `  ${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`);
  const pods = ((byKind.get('Pod') ?? []) as Pod[])
    .filter((p) => namespaces.has(p.metadata?.namespace ?? ''))
    .map((p) => `  pod/${p.metadata?.name} ${podStatusText(p)} on ${p.spec?.nodeName ?? '<unscheduled>'} ip ${p.status?.podIP ?? '<none>'}`);
  return [`last events:`, ...(events.length ? events : ['  <none>']), 'pods:', ...(pods.length ? pods : ['  <none>'])].join('\n');
}
