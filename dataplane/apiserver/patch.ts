/**
 * PATCH (k8s.io/apiserver handlers/patch.go): the patch is applied to the stored object and the
 * result written as an update through the shared write path, retried when someone else wrote
 * in between (unless the patch itself names a resourceVersion: then that is a Conflict).
 *
 *   application/json-patch+json            RFC 6902 (fast-json-patch)
 *   application/merge-patch+json           RFC 7386 (merge-patch.ts)
 *   application/strategic-merge-patch+json base/patch/strategic-merge.ts   } through
 *   application/apply-patch+yaml           base/patch/server-side-apply.ts } patch-modules.ts
 *
 * Every patch but an apply is recorded in managedFields as the field manager's Update.
 *
 * On the scale subresource the patch applies to the autoscaling/v1 Scale and its
 * spec.replicas goes to the object; on status only status is written; on a pod's
 * ephemeralcontainers only its spec.ephemeralContainers (`kubectl debug`'s strategic merge patch).
 */
import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import type { ApiResource } from '../base/model/api-resources.js';
import type { KObject } from '../base/model/object.js';
import { KINDS } from '../base/model/object.js';
import { StoreError } from '../base/store/errors.js';
import { createObject, updateObject, type Written } from '../base/admission/writes.js';
import { warningHeaders, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { mediaType, writeQuery, type WriteQuery } from './request-body.js';
import { objectReply } from './read.js';
import { settled } from './write.js';
import { mergePatch } from './merge-patch.js';
import { applyServerSide, patchStrategic } from './patch-modules.js';
import { apiError, badRequest, conflict, invalid, notFound, toApiError } from './status.js';
import { parseBool } from './request-info.js';
import { fromScale, scaleReply, toScale } from './scale.js';

const MAX_JSON_PATCH_OPERATIONS = 10_000;
const ATTEMPTS = 10;

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  switch (mediaType(contentType)) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      throw apiError(
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
}

/** The patch document, parsed and checked once before any attempt. */
function parsePatch(type: PatchType, body: Buffer | undefined): unknown {
  const text = body?.toString('utf8') ?? '';
  if (type === 'apply') {
    // YAML or JSON (JSON is YAML), as the apiserver reads an apply body.
    try {
      return parseYaml(text) as unknown;
    } catch (err) {
      throw badRequest(`error decoding YAML: ${(err as Error).message}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  if (type === 'json') {
    if (!Array.isArray(doc)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    if (doc.length > MAX_JSON_PATCH_OPERATIONS) throw apiError('RequestEntityTooLarge', `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${doc.length}`);
    const problem = jsonpatch.validate(doc as jsonpatch.Operation[]);
    if (problem) throw badRequest(`the server rejected our request due to an error in our request: ${problem.message.split('\n')[0]}`);
  } else if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw badRequest(`the server rejected our request due to an error in our request: a ${type === 'merge' ? 'merge' : 'strategic merge'} patch must be a JSON object`);
  }
  return doc;
}

function applyTo(type: PatchType, target: KObject, patch: unknown, r: ApiResource, fieldManager: string, force: boolean): KObject {
  switch (type) {
    case 'json':
      try {
        return jsonpatch.applyPatch(structuredClone(target), patch as jsonpatch.Operation[], true, true).newDocument;
      } catch (err) {
        throw apiError('Invalid', `the server rejected our request due to an error in our request: ${String((err as Error).message).split('\n')[0]}`);
      }
    case 'merge':
      return mergePatch(target, patch) as KObject;
    case 'strategic':
      return patchStrategic(target, patch, r);
    case 'apply':
      return applyServerSide(target, patch, r, { fieldManager, force });
  }
}

export async function handlePatch(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string, subresource?: 'status' | 'scale' | 'ephemeralcontainers'): Promise<Reply> {
  const q = writeQuery(req, 'PatchOptions');
  const type = patchTypeOf(req.headers.contentType);
  const force = parseBool(req.query.get('force')) === true;
  if (force && type !== 'apply') throw apiError('Invalid', 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  if (type === 'apply' && !req.query.get('fieldManager')) throw apiError('Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  const patch = parsePatch(type, req.body);
  const ns = KINDS[r.kind].namespaced ? namespace : undefined;
  for (let attempt = 0; ; attempt++) {
    const current = await ctx.store.get(r.kind, ns, name);
    if (!current) {
      if (type === 'apply' && subresource === undefined) return applyCreate(ctx, req, r, ns, name, patch, q, force);
      throw notFound(r, name);
    }
    const target = subresource === 'scale' ? toScale(r, current) : current;
    const patched = applyTo(type, target, patch, r, q.fieldManager, force);
    const desired = subresource === 'scale' ? fromScale(r, current, patched) : patched;
    checkIdentity(r, current, desired);
    const wantRv = typeof desired.metadata?.resourceVersion === 'string' && desired.metadata.resourceVersion !== '' ? desired.metadata.resourceVersion : undefined;
    if (wantRv !== undefined && wantRv !== current.metadata?.resourceVersion) throw conflict(r, name);
    const pinned = { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } };
    let written: Written;
    try {
      written = await updateObject(ctx.store, ctx.config, pinned, {
        dryRun: q.dryRun,
        fieldValidation: q.fieldValidation,
        subresource: subresource === 'scale' ? undefined : subresource,
        // An apply has written its managedFields itself; every other patch is an Update.
        fieldManager: type === 'apply' ? undefined : q.fieldManager,
      });
    } catch (err) {
      if (err instanceof StoreError && err.reason === 'Conflict' && patchedRvUnset(target, patched) && attempt < ATTEMPTS) continue;
      throw toApiError(err, r, r.kind, name);
    }
    await settled(ctx, written, q.dryRun);
    const headers = warningHeaders(written.warnings);
    if (subresource === 'scale') return scaleReply(r, written.object, headers);
    return objectReply(ctx, req, r, written.object, 200, headers);
  }
}

/** Server-side apply of an object that does not exist: the applied object is created (201). */
async function applyCreate(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string, patch: unknown, q: WriteQuery, force: boolean): Promise<Reply> {
  const applied = applyServerSide(undefined, patch, r, { fieldManager: q.fieldManager, force });
  if (applied.metadata?.name !== name) throw badRequest(`the name of the object (${applied.metadata?.name ?? ''}) does not match the name on the URL (${name})`);
  const obj = { ...applied, metadata: { ...applied.metadata, ...(namespace !== undefined ? { namespace } : {}) } };
  let written: Written;
  try {
    written = await createObject(ctx.store, ctx.config, obj, { dryRun: q.dryRun, fieldValidation: q.fieldValidation });
  } catch (err) {
    throw toApiError(err, r, r.kind, name);
  }
  await settled(ctx, written, q.dryRun);
  return objectReply(ctx, req, r, written.object, 201, warningHeaders(written.warnings));
}

/** The patch left resourceVersion as it found it: a conflict with another writer may be retried. */
function patchedRvUnset(target: KObject, patched: KObject): boolean {
  return patched.metadata?.resourceVersion === target.metadata?.resourceVersion;
}

/** A patch may not rename or move an object (the apiserver: metadata.name is immutable). */
function checkIdentity(r: ApiResource, current: KObject, desired: KObject): void {
  if (typeof desired !== 'object' || desired === null || Array.isArray(desired)) throw badRequest('the patched object is not an object');
  const name = current.metadata?.name ?? '';
  if (desired.metadata?.name !== name) {
    throw invalid(r.kind, r.group, name, [{ field: 'metadata.name', type: 'Invalid', message: `metadata.name: Invalid value: ${JSON.stringify(desired.metadata?.name ?? '')}: field is immutable` }]);
  }
  if (KINDS[r.kind].namespaced && desired.metadata?.namespace !== current.metadata?.namespace) {
    throw invalid(r.kind, r.group, name, [{ field: 'metadata.namespace', type: 'Invalid', message: `metadata.namespace: Invalid value: ${JSON.stringify(desired.metadata?.namespace ?? '')}: field is immutable` }]);
  }
  if (desired.kind !== current.kind || desired.apiVersion !== current.apiVersion) throw badRequest(`a patch may not change apiVersion or kind (${current.apiVersion}, ${current.kind})`);
}
