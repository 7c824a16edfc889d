/**
 * `GET /api/v1/componentstatuses[/NAME]` (`kubectl get cs`): the health of the control plane as
 * the apiserver reports it (pkg/registry/core/componentstatus), computed on each read, never
 * stored, with the deprecation warning a 1.32 apiserver sends (`v1 ComponentStatus is deprecated
 * in v1.19+`). `etcd-0` is the store (its Redis connection); `scheduler` and `controller-manager`
 * are healthy while their leader-election Leases in kube-system are renewed in time — the
 * apiserver cannot probe their /healthz ports as upstream's does, and the Lease says the same
 * thing: the process is alive and leading.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { ComputedResource } from '../base/model/api-resources.js';
import type { ApiContext, ApiRequest, Reply } from './api-request.js';
import { jsonReply, warningHeaders } from './api-request.js';
import { resourceShape } from './negotiation.js';
import { includeObject } from './read.js';
import { apiError } from './status.js';

interface ComponentStatus {
  kind: 'ComponentStatus';
  apiVersion: 'v1';
  metadata: { name: string };
  conditions: Array<{ type: 'Healthy'; status: 'True' | 'False'; message?: string; error?: string }>;
}

const WARNING = warningHeaders(['v1 ComponentStatus is deprecated in v1.19+']);

/** The leases that stand for the two components' health. */
const LEASE_OF: Record<string, string> = { scheduler: 'kube-scheduler', 'controller-manager': 'kube-controller-manager' };

/** One component's status from what the apiserver can see: the store's state and the leases. */
export function componentStatus(name: string, seen: { storeReady: boolean; lease: (name: string) => Lease | undefined; nowMs: number }): ComponentStatus {
  const status = (healthy: boolean, detail: string): ComponentStatus => ({
    kind: 'ComponentStatus',
    apiVersion: 'v1',
    metadata: { name },
    conditions: [healthy ? { type: 'Healthy', status: 'True', message: detail } : { type: 'Healthy', status: 'False', error: detail }],
  });
  if (name === 'etcd-0') return status(seen.storeReady, seen.storeReady ? 'ok' : 'the store (Redis) is not connected');
  const leaseName = LEASE_OF[name]!;
  const lease = seen.lease(leaseName);
  if (!lease) return status(false, `lease kube-system/${leaseName} not found: no ${name} has run`);
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  const limitMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
  const ageMs = seen.nowMs - renewed;
  if (!Number.isFinite(renewed) || ageMs > limitMs) return status(false, `lease kube-system/${leaseName} not renewed for ${Math.round(ageMs / 1000)}s (leaseDurationSeconds ${limitMs / 1000})`);
  return status(true, 'ok');
}

export const COMPONENTS = ['scheduler', 'controller-manager', 'etcd-0'];

export function handleComponentStatuses(ctx: ApiContext, req: ApiRequest, r: ComputedResource, verb: string, name: string | undefined): Reply {
  if (verb !== 'get' && verb !== 'list') throw apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method.toLowerCase()} ${r.plural})`);
  const seen = {
    storeReady: ctx.store.redis.status === 'ready',
    lease: (n: string) => ctx.cache.get('Lease', 'kube-system', n) as Lease | undefined,
    nowMs: Date.now(),
  };
  const names = name === undefined ? COMPONENTS : COMPONENTS.filter((c) => c === name);
  if (name !== undefined && !names.length) throw apiError('NotFound', `componentstatuses "${name}" not found`, { name, kind: r.plural });
  const items = names.map((n) => componentStatus(n, seen));
  const shape = resourceShape(req.headers.accept);
  if (shape.as === 'Table') {
    const include = includeObject(req.query);
    return jsonReply(
      200,
      {
        kind: 'Table',
        apiVersion: shape.contentType.includes('v=v1beta1') ? 'meta.k8s.io/v1beta1' : 'meta.k8s.io/v1',
        metadata: {},
        columnDefinitions: [
          { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
          { name: 'Status', type: 'string', format: '', description: 'Status of the component conditions', priority: 0 },
          { name: 'Message', type: 'string', format: '', description: 'Message of the component conditions', priority: 0 },
          { name: 'Error', type: 'string', format: '', description: 'Error of the component conditions', priority: 0 },
        ],
        rows: items.map((cs) => {
          const c = cs.conditions[0]!;
          const cells = [cs.metadata.name, c.status === 'True' ? 'Healthy' : 'Unhealthy', c.message ?? '', c.error ?? ''];
          if (include === 'None') return { cells };
          return { cells, object: include === 'Object' ? cs : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cs.metadata } };
        }),
      },
      shape.contentType,
      WARNING,
    );
  }
  if (name !== undefined) return jsonReply(200, items[0], 'application/json', WARNING);
  return jsonReply(200, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items }, 'application/json', WARNING);
}
