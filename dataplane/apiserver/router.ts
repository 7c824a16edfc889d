/**
 * From a request to its handler, as the apiserver's installer maps paths to REST verbs:
 * non-resource paths (/version, /healthz, discovery) first, then the resource, its scope and
 * the verb. Every failure below becomes a Status (status.ts); nothing here touches a socket.
 */
import { KINDS } from '../base/model/object.js';
import { computedResourceAt, createOnlyResourceAt } from '../base/model/api-resources.js';
import { jsonReply, statusReply, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { requestInfo, type DiscoveryRequest, type ResourceRequest } from './request-info.js';
import { discoveryShape } from './negotiation.js';
import { aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { handleGet, handleList } from './read.js';
import { handleCreate, handleDelete, handleDeleteCollection, handleUpdate } from './write.js';
import { handlePatch } from './patch.js';
import { handleWatch } from './watch-stream.js';
import { handleSubresource } from './subresources.js';
import { apiError, failure, toApiError } from './status.js';
import { healthReply } from './health.js';
import { metricsReply } from './metrics.js';

const notFoundPath = () => apiError('NotFound', 'the server could not find the requested resource');

export async function route(ctx: ApiContext, req: ApiRequest): Promise<Reply> {
  try {
    const info = requestInfo(req.method, req.pathname, req.query);
    switch (info.type) {
      case 'version':
        return jsonReply(200, versionInfo());
      case 'health': {
        const probes = { storeReady: () => ctx.store.redis.status === 'ready', cacheSynced: () => ctx.cache.hasSynced, shuttingDown: () => false };
        const reply = healthReply(req.pathname, req.query, probes);
        if (!reply) throw notFoundPath();
        return reply;
      }
      case 'metrics':
        return await metricsReply(ctx);
      case 'discovery':
        return discovery(ctx, req, info);
      case 'resource':
        return await resource(ctx, req, info);
      case 'openapi':
      case 'unknown':
        throw notFoundPath();
    }
  } catch (err) {
    const e = toApiError(err);
    if (e.code >= 500) ctx.log.warn('request failed', { method: req.method, path: req.pathname, error: err as Error });
    return statusReply(e.status, e.headers);
  }
}

function discovery(ctx: ApiContext, req: ApiRequest, info: DiscoveryRequest): Reply {
  const shape = discoveryShape(req.headers.accept);
  switch (info.what) {
    case 'api':
      if (shape.as === 'APIGroupDiscoveryList') return jsonReply(200, aggregatedDiscovery(true, shape.version), shape.contentType);
      return jsonReply(200, apiVersions(`${ctx.config.apiServerAddress}:${ctx.config.apiServerPort}`));
    case 'apis':
      if (shape.as === 'APIGroupDiscoveryList') return jsonReply(200, aggregatedDiscovery(false, shape.version), shape.contentType);
      return jsonReply(200, apiGroupList());
    case 'group': {
      const doc = apiGroupDocument(info.group);
      if (!doc) throw notFoundPath();
      return jsonReply(200, doc);
    }
    case 'groupVersion': {
      const doc = apiResourceList(info.group, info.version);
      if (!doc) throw notFoundPath();
      return jsonReply(200, doc);
    }
  }
}

async function resource(ctx: ApiContext, req: ApiRequest, info: ResourceRequest): Promise<Reply> {
  const r = info.resource;
  if (!r) {
    // Computed on read, never stored (componentstatuses).
    const computed = computedResourceAt(info.group, info.version, info.plural);
    if (computed && info.namespace === undefined && info.subresource === undefined) {
      const { handleComponentStatuses } = await import('./component-statuses.js');
      return handleComponentStatuses(ctx, req, computed, info.verb, info.name);
    }
    // The review APIs: created, never stored (TokenReview, the self-reviews of `kubectl auth`).
    const review = createOnlyResourceAt(info.group, info.version, info.plural);
    if (!review || info.namespace !== undefined || info.name !== undefined) throw notFoundPath();
    if (info.verb !== 'create') throw apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method.toLowerCase()} ${review.plural}.${review.group})`);
    if (review.kind === 'TokenReview') {
      const { handleTokenReview } = await import('./token-review.js');
      return handleTokenReview(ctx, req);
    }
    const { handleSelfReview } = await import('./self-reviews.js');
    return handleSelfReview(ctx, req, review);
  }
  const namespaced = KINDS[r.kind].namespaced;
  if (!namespaced && info.namespace !== undefined) throw notFoundPath();
  const ns = namespaced ? info.namespace : undefined;
  // A namespaced object is addressed inside its namespace; only lists and watches span all.
  if (namespaced && ns === undefined && !['list', 'watch', 'deletecollection'].includes(info.verb)) throw notFoundPath();
  if (info.subresource !== undefined) {
    if (info.name === undefined) throw notFoundPath();
    return handleSubresource(ctx, req, r, info.verb, ns, info.name, info.subresource);
  }
  switch (info.verb) {
    case 'get':
      return handleGet(ctx, req, r, ns, info.name!);
    case 'list':
      return handleList(ctx, req, r, ns);
    case 'watch':
      return handleWatch(ctx, req, r, ns, info.name);
    case 'create':
      if (info.name !== undefined) throw apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (post ${r.plural} ${info.name})`);
      return handleCreate(ctx, req, r, ns);
    case 'update':
    case 'patch':
      if (info.name === undefined) throw apiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${req.method.toLowerCase()} ${r.plural})`);
      return info.verb === 'update' ? handleUpdate(ctx, req, r, ns, info.name) : handlePatch(ctx, req, r, ns, info.name);
    case 'delete':
      return handleDelete(ctx, req, r, ns, info.name!);
    case 'deletecollection':
      return handleDeleteCollection(ctx, req, r, ns);
  }
}

/** The reply to a request that did not authenticate. */
export function unauthorized(): Reply {
  return statusReply(failure('Unauthorized', 'Unauthorized'));
}
