/**
 * POST, PUT and DELETE of resources, through the shared write path (api/writes.ts: admission,
 * defaulting, allocation, the commit script). After a write the reply waits until the cache has
 * seen it, so the client's next GET or LIST from this apiserver sees its own write.
 */
import type { ApiResource } from '../base/model/api-resources.js';
import { KINDS, type KObject } from '../base/model/object.js';
import { createObject, deleteObject, updateObject, type Written } from '../base/admission/writes.js';
import type { UpdateSubresource } from '../base/admission/writes.js';
import { jsonReply, warningHeaders, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { decodeBody, objectFromBody, writeQuery } from './request-body.js';
import { objectReply } from './read.js';
import { matches, parseListOptions } from './list-options.js';
import { badRequest, success, toApiError } from './status.js';
import { groupVersionOf } from './read.js';
import { parseBool } from './request-info.js';

/** Waits until the cache has the written version (the write's reply then reflects in reads). */
export async function settled(ctx: ApiContext, written: Written, dryRun: boolean): Promise<void> {
  if (dryRun || !written.changed) return;
  await ctx.cache.waitFor(Number(written.object.metadata?.resourceVersion ?? 0));
}

export async function handleCreate(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined): Promise<Reply> {
  const q = writeQuery(req, 'CreateOptions');
  const obj = objectFromBody(decodeBody(req, r), r, namespace);
  let written: Written;
  try {
    written = await createObject(ctx.store, ctx.config, obj, { dryRun: q.dryRun, fieldValidation: q.fieldValidation, fieldManager: q.fieldManager });
  } catch (err) {
    throw toApiError(err, r, r.kind, obj.metadata?.name ?? '');
  }
  await settled(ctx, written, q.dryRun);
  return objectReply(ctx, req, r, written.object, 201, warningHeaders(written.warnings));
}

export async function handleUpdate(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string, subresource?: Exclude<UpdateSubresource, 'finalize'>): Promise<Reply> {
  const q = writeQuery(req, 'UpdateOptions');
  const obj = objectFromBody(decodeBody(req, r), r, namespace, name);
  let written: Written;
  try {
    written = await updateObject(ctx.store, ctx.config, obj, { dryRun: q.dryRun, fieldValidation: q.fieldValidation, fieldManager: q.fieldManager, subresource });
  } catch (err) {
    throw toApiError(err, r, r.kind, name);
  }
  await settled(ctx, written, q.dryRun);
  return objectReply(ctx, req, r, written.object, 200, warningHeaders(written.warnings));
}

interface DeleteBody {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** metav1.DeleteOptions from the body (kubectl sends one) and the query (client libraries use either). */
export function deleteOptions(req: ApiRequest): DeleteBody {
  let body: DeleteBody = {};
  if (req.body && req.body.length > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body.toString('utf8'));
    } catch (err) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('the body of a delete must be a DeleteOptions object');
    body = parsed as DeleteBody;
  }
  const q = req.query;
  const grace = q.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') body.gracePeriodSeconds = Number(grace);
  const policy = q.get('propagationPolicy');
  if (policy) body.propagationPolicy = policy as DeleteBody['propagationPolicy'];
  if (parseBool(q.get('orphanDependents')) === true) body.propagationPolicy ??= 'Orphan';
  if (body.orphanDependents === true) body.propagationPolicy ??= 'Orphan';
  const dry = [...q.getAll('dryRun'), ...(Array.isArray(body.dryRun) ? body.dryRun : [])].filter((v) => v !== '');
  for (const v of dry) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(v)}: supported values: "All"`);
  body.dryRun = dry;
  if (body.gracePeriodSeconds !== undefined && (!Number.isInteger(body.gracePeriodSeconds) || body.gracePeriodSeconds < 0)) {
    throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(body.gracePeriodSeconds)}: must be a non-negative integer`);
  }
  if (body.propagationPolicy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(body.propagationPolicy)) {
    throw apiInvalidPolicy(body.propagationPolicy);
  }
  if (body.preconditions !== undefined && (typeof body.preconditions !== 'object' || body.preconditions === null)) throw badRequest('preconditions must be an object');
  return body;
}

function apiInvalidPolicy(p: unknown) {
  return badRequest(`propagationPolicy: Unsupported value: ${JSON.stringify(p)}: supported values: "Foreground", "Background", "Orphan"`);
}

async function deleteOne(ctx: ApiContext, r: ApiResource, namespace: string | undefined, name: string, opts: DeleteBody): Promise<{ object: KObject; gone: boolean }> {
  const dryRun = (opts.dryRun?.length ?? 0) > 0;
  try {
    const { object, removed } = await deleteObject(ctx.store, r.kind, namespace, name, {
      gracePeriodSeconds: opts.gracePeriodSeconds,
      propagationPolicy: opts.propagationPolicy,
      preconditions: opts.preconditions,
      dryRun,
    });
    // The delete's version is not returned by the store: wait for the store's current one.
    if (!dryRun) await ctx.cache.waitFor(await ctx.store.currentResourceVersion());
    return { object, gone: removed };
  } catch (err) {
    throw toApiError(err, r, r.kind, name);
  }
}

/**
 * DELETE of one object: Pods answer with the object (with deletionTimestamp while they
 * terminate, 202 then); anything else that stays for now (finalizers, a Terminating namespace,
 * Foreground or Orphan propagation under way) with the object as it stands, and what went with
 * a Success Status naming it (the registry's ReturnDeletedObject is set for Pods only among the
 * kinds knet serves).
 */
export async function handleDelete(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string): Promise<Reply> {
  const opts = deleteOptions(req);
  const { object, gone } = await deleteOne(ctx, r, namespace, name, opts);
  if (r.kind === 'Pod') return objectReply(ctx, req, r, object, gone ? 200 : 202);
  if (!gone) return objectReply(ctx, req, r, object, 200);
  return jsonReply(200, success({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: object.metadata?.uid }));
}

/** DELETE of a collection (by selectors): the objects deleted, as a list. */
export async function handleDeleteCollection(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined): Promise<Reply> {
  const opts = deleteOptions(req);
  const list = parseListOptions(r.kind, req.query);
  const targets = ctx.cache.list(r.kind, namespace).filter((o) => matches(r.kind, list, o));
  const deleted: KObject[] = [];
  for (const o of targets) {
    try {
      deleted.push((await deleteOne(ctx, r, KINDS[r.kind].namespaced ? o.metadata?.namespace : undefined, o.metadata?.name ?? '', opts)).object);
    } catch (err) {
      // Gone meanwhile: that is what was asked for.
      if (toApiError(err).code !== 404) throw err;
    }
  }
  return jsonReply(200, { kind: `${r.kind}List`, apiVersion: groupVersionOf(r), metadata: { resourceVersion: String(ctx.cache.resourceVersion) }, items: deleted });
}
