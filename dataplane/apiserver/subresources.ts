/**
 * Subresources: `status` (GET the object, PUT/PATCH only its status), `scale` (autoscaling/v1
 * Scale of Deployments, ReplicaSets, StatefulSets), `pods/ephemeralcontainers` (GET the Pod,
 * PUT/PATCH only its spec.ephemeralContainers: base/admission/ephemeral-containers.ts) and `pods/binding`; `pods/eviction` is
 * eviction.ts, `pods/log` is pod-log.ts, `serviceaccounts/token` token-request.ts; `pods/exec` and
 * `pods/attach` are upgrades (pod-stream-proxy.ts), refused here when asked without one. Every
 * write goes through the shared write path.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiResource } from '../base/model/api-resources.js';
import { updateObject } from '../base/admission/writes.js';
import { bindPod } from '../base/admission/pod-binding.js';
import { jsonReply, warningHeaders, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { decodeBody, writeQuery } from './request-body.js';
import { handleGet } from './read.js';
import { handleUpdate, settled } from './write.js';
import { handlePatch } from './patch.js';
import { fromScale, scaleReply, toScale } from './scale.js';
import { apiError, badRequest, notFound, toApiError } from './status.js';
import type { ResourceVerb } from './request-info.js';
import { metaTime } from '../base/model/meta-time.js';
import { podStreamTarget } from './pod-stream-target.js';
import { evict } from './eviction.js';

const methodNotAllowed = (verb: string, sub: string) => apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${verb} ${sub})`);

export async function handleSubresource(ctx: ApiContext, req: ApiRequest, r: ApiResource, verb: ResourceVerb, namespace: string | undefined, name: string, sub: string): Promise<Reply> {
  if (!r.subresources.some((s) => s.name === sub)) throw apiError('NotFound', 'the server could not find the requested resource');
  switch (sub) {
    case 'status':
      if (verb === 'get') return handleGet(ctx, req, r, namespace, name);
      if (verb === 'update') return handleUpdate(ctx, req, r, namespace, name, 'status');
      if (verb === 'patch') return handlePatch(ctx, req, r, namespace, name, 'status');
      throw methodNotAllowed(verb, `${r.plural}/status`);
    case 'ephemeralcontainers':
      if (verb === 'get') return handleGet(ctx, req, r, namespace, name);
      if (verb === 'update') return handleUpdate(ctx, req, r, namespace, name, 'ephemeralcontainers');
      if (verb === 'patch') return handlePatch(ctx, req, r, namespace, name, 'ephemeralcontainers');
      throw methodNotAllowed(verb, 'pods/ephemeralcontainers');
    case 'scale':
      if (verb === 'get') {
        const obj = ctx.cache.get(r.kind, namespace, name);
        if (!obj) throw notFound(r, name);
        return scaleReply(r, obj);
      }
      if (verb === 'update') return updateScale(ctx, req, r, namespace, name);
      if (verb === 'patch') return handlePatch(ctx, req, r, namespace, name, 'scale');
      throw methodNotAllowed(verb, `${r.plural}/scale`);
    case 'eviction':
      if (verb !== 'create') throw methodNotAllowed(verb, 'pods/eviction');
      return evict(ctx, req, r, namespace, name);
    case 'binding':
      if (verb !== 'create') throw methodNotAllowed(verb, 'pods/binding');
      return bind(ctx, req, r, namespace, name);
    case 'exec':
    case 'attach':
      // Without an upgrade: checked as with one (the pod, its container, its node), then refused.
      if (verb !== 'get' && verb !== 'create') throw methodNotAllowed(verb, `pods/${sub}`);
      podStreamTarget(ctx, sub, namespace ?? 'default', name, req.query);
      throw badRequest('Upgrade request required');
    case 'token': {
      if (verb !== 'create') throw methodNotAllowed(verb, 'serviceaccounts/token');
      const { handleTokenRequest } = await import('./token-request.js');
      return handleTokenRequest(ctx, req, r, namespace ?? 'default', name);
    }
    case 'log': {
      if (verb !== 'get') throw methodNotAllowed(verb, 'pods/log');
      const { handlePodLog } = await import('./pod-log.js');
      return handlePodLog(ctx, req, namespace ?? 'default', name);
    }
    case 'portforward':
    case 'proxy':
      // Served on the socket (upgrade.ts, proxy-subresource.ts); reaching here means no upgrade was asked for.
      throw badRequest('Upgrade request required');
    default:
      throw apiError('NotFound', 'the server could not find the requested resource');
  }
}

async function updateScale(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string): Promise<Reply> {
  const q = writeQuery(req, 'UpdateOptions');
  const scale = decodeBody(req, r);
  const current = await ctx.store.get(r.kind, namespace, name);
  if (!current) throw notFound(r, name);
  const desired = fromScale(r, current, scale as never);
  try {
    const written = await updateObject(ctx.store, ctx.config, desired, { dryRun: q.dryRun, fieldValidation: 'Ignore' });
    await settled(ctx, written, q.dryRun);
    return scaleReply(r, written.object, warningHeaders(written.warnings));
  } catch (err) {
    throw toApiError(err, r, r.kind, name);
  }
}

interface Binding {
  metadata?: { name?: string };
  target?: { kind?: string; name?: string };
}

/** POST pods/NAME/binding: the scheduler's write (api/pod-binding.ts); 409 when already bound. */
async function bind(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string): Promise<Reply> {
  const body = decodeBody(req, r) as Binding;
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be a Binding object');
  if (body.metadata?.name !== undefined && body.metadata.name !== name) throw badRequest('name in URL does not match name in Binding object');
  const node = body.target?.name;
  if (!node) throw apiError('Invalid', `Binding "${name}" is invalid: target.name: Required value`);
  if (body.target?.kind !== undefined && body.target.kind !== '' && body.target.kind !== 'Node') throw apiError('Invalid', `Binding "${name}" is invalid: target.kind: Unsupported value: ${JSON.stringify(body.target.kind)}: supported values: "Node"`);
  const q = writeQuery(req, 'CreateOptions');
  const pod = await ctx.store.get<Pod>('Pod', namespace, name);
  if (!pod) throw notFound(r, name);
  if (q.dryRun) return jsonReply(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  try {
    const bound = await bindPod(ctx.store, pod, node, metaTime());
    await ctx.cache.waitFor(Number(bound.metadata?.resourceVersion ?? 0));
  } catch (err) {
    throw toApiError(err, r, r.kind, name);
  }
  return jsonReply(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

export { toScale };
