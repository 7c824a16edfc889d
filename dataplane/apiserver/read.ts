/**
 * GET of one object and LIST, from the cache: as JSON, as a Table (`kubectl get`), or as
 * PartialObjectMetadata. Lists are sorted by namespace/name and paged by limit/continue; a page
 * after the first is cut from the cache as it is now (knet keeps no snapshots of old versions),
 * and a token older than the cache's event window is 410 Expired, as etcd compaction makes it.
 */
import type { ApiResource } from '../base/model/api-resources.js';
import { keyOf, type KObject } from '../base/model/object.js';
import { jsonReply, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { resourceShape } from './negotiation.js';
import { encodeContinue, matches, parseListOptions } from './list-options.js';
import { apiError, badRequest, notFound } from './status.js';
import { partialObjectMetadata, toTable, type IncludeObject } from './table.js';

export const groupVersionOf = (r: ApiResource): string => (r.group ? `${r.group}/${r.version}` : r.version);

export function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}: supported values: "Metadata", "None", "Object"`);
}

export function handleGet(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string): Reply {
  const obj = ctx.cache.get(r.kind, namespace, name);
  if (!obj) throw notFound(r, name);
  return objectReply(ctx, req, r, obj, 200);
}

/** One object in the shape the client asked for. */
export function objectReply(ctx: ApiContext, req: ApiRequest, r: ApiResource, obj: KObject, code: number, headers?: Record<string, string>): Reply {
  const shape = resourceShape(req.headers.accept);
  if (shape.as === 'Table') {
    const v = shape.contentType.includes('v=v1beta1') ? 'v1beta1' : 'v1';
    return jsonReply(code, toTable(r.kind, [obj], { include: includeObject(req.query), resourceVersion: obj.metadata?.resourceVersion, metaVersion: v }), shape.contentType, headers);
  }
  if (shape.as === 'PartialObjectMetadata') return jsonReply(code, partialObjectMetadata(obj), shape.contentType, headers);
  return jsonReply(code, ctx.cache.toJson(obj), 'application/json', headers);
}

export async function handleList(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined): Promise<Reply> {
  const opts = parseListOptions(r.kind, req.query);
  await waitForResourceVersion(ctx, opts.resourceVersion, req.query.get('resourceVersionMatch'));
  const rv = ctx.cache.resourceVersion;
  if (opts.continue && opts.continue.rv < ctx.cache.oldestResourceVersion) {
    throw apiError('Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
  }
  let candidates: readonly KObject[];
  if (opts.name !== undefined) {
    const one = ctx.cache.get(r.kind, namespace, opts.name);
    candidates = one ? [one] : [];
  } else {
    candidates = ctx.cache.list(r.kind, namespace);
  }
  const start = opts.continue?.start;
  const items: KObject[] = [];
  let next: string | undefined;
  let remaining = 0;
  for (const o of candidates) {
    if (start !== undefined && keyOf(o) <= start) continue;
    if (!matches(r.kind, opts, o)) continue;
    if (opts.limit !== undefined && items.length >= opts.limit) {
      if (next === undefined) next = keyOf(items[items.length - 1]!);
      remaining++;
      continue;
    }
    items.push(o);
  }
  const listRv = String(opts.continue?.rv ?? rv);
  const token = next !== undefined ? encodeContinue(opts.continue?.rv ?? rv, next) : undefined;
  const shape = resourceShape(req.headers.accept);
  const remainingItemCount = token && opts.labels.length === 0 && opts.fields.length === 0 ? remaining : undefined;
  if (shape.as === 'Table') {
    const v = shape.contentType.includes('v=v1beta1') ? 'v1beta1' : 'v1';
    return jsonReply(200, toTable(r.kind, items, { include: includeObject(req.query), resourceVersion: listRv, continue: token, remainingItemCount, metaVersion: v }), shape.contentType);
  }
  const meta = JSON.stringify({ resourceVersion: listRv, ...(token ? { continue: token } : {}), ...(remainingItemCount !== undefined ? { remainingItemCount } : {}) });
  if (shape.as === 'PartialObjectMetadata') {
    const body = `{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":${meta},"items":[${items.map((o) => JSON.stringify(partialObjectMetadata(o))).join(',')}]}`;
    return jsonReply(200, body, shape.contentType);
  }
  // The items' JSON is cached per object version: a list is mostly string joins; a whole
  // unfiltered list is kept until the kind changes (informers and kubectl ask for it repeatedly).
  const build = () => `{"kind":"${r.kind}List","apiVersion":"${groupVersionOf(r)}","metadata":${meta},"items":[${items.map((o) => ctx.cache.toJson(o)).join(',')}]}`;
  const whole = !opts.continue && !token && opts.labels.length === 0 && opts.fields.length === 0;
  return jsonReply(200, whole ? ctx.cache.answer(r.kind, `list|${namespace ?? ''}|${listRv}`, build) : build());
}

/**
 * resourceVersion on a list or watch: "" or "0" is served from the cache as it is; N asks for
 * at least N (NotOlderThan): wait up to 3 s for the cache to get there, else 504 as the
 * apiserver's "Too large resource version".
 */
export async function waitForResourceVersion(ctx: ApiContext, resourceVersion: string | undefined, match: string | null): Promise<void> {
  if (match && match !== 'NotOlderThan' && match !== 'Exact') {
    throw badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
  }
  if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') return;
  if (!/^\d+$/.test(resourceVersion)) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(resourceVersion)}: must be an unsigned integer`);
  const want = Number(resourceVersion);
  if (ctx.cache.resourceVersion >= want) return;
  await ctx.cache.waitFor(want, 3000);
  if (ctx.cache.resourceVersion < want) {
    throw apiError('Timeout', `Too large resource version: ${want}, current: ${ctx.cache.resourceVersion}`, { retryAfterSeconds: 1 });
  }
}
