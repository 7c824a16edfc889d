/**
 * The patch and body modules the PATCH and write handlers call — strategic merge patch and
 * server-side apply (base/patch), protobuf request bodies (protobuf/) — with their errors
 * turned into the Statuses the apiserver answers them with.
 */
import type { KObject } from '../base/model/object.js';
import type { ApiResource } from '../base/model/api-resources.js';
import { applyStrategicMergePatch } from '../base/patch/strategic-merge.js';
import { applyServerSide as apply, ApplyConflictError, ApplyInvalidError } from '../base/patch/server-side-apply.js';
import { kindRef } from '../base/patch/api-schema.js';
import { PatchError } from '../base/patch/patch-error.js';
import type { JsonMap } from '../base/patch/json-value.js';
import { decodeProtobufBody, ProtobufDecodeError } from './protobuf/decode-protobuf.js';
import { ApiError, apiError, failure } from './status.js';

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  subresource?: string;
}

const gv = (r: ApiResource) => (r.group ? `${r.group}/${r.version}` : r.version);

/** A PatchError (and its apply kinds) as its Status. */
function statusOf(err: unknown): unknown {
  if (err instanceof ApplyConflictError) return new ApiError(failure('Conflict', err.message, { causes: err.causes }));
  if (err instanceof ApplyInvalidError) return new ApiError(failure('Invalid', err.message, err.details));
  if (err instanceof PatchError) return apiError(err.reason, err.message);
  return err;
}

/** application/strategic-merge-patch+json: `current` with `patch` merged by the kind's patch strategies and merge keys. */
export function patchStrategic(current: KObject, patch: unknown, r: ApiResource): KObject {
  try {
    return applyStrategicMergePatch(current as unknown as JsonMap, patch as JsonMap, kindRef(r.kind)) as unknown as KObject;
  } catch (err) {
    throw statusOf(err);
  }
}

/** application/apply-patch+yaml: server-side apply by `opts.fieldManager` onto `current` (undefined: create); managedFields included. */
export function applyServerSide(current: KObject | undefined, applied: unknown, r: ApiResource, opts: ApplyOptions): KObject {
  try {
    return apply(current, applied, { fieldManager: opts.fieldManager, force: opts.force, apiVersion: gv(r), kind: r.kind, subresource: opts.subresource });
  } catch (err) {
    throw statusOf(err);
  }
}

/** application/vnd.kubernetes.protobuf request bodies (kubectl 1.32's `create configmap|secret|…`). */
export function decodeProtobuf(body: Buffer, _r: ApiResource): KObject {
  try {
    return decodeProtobufBody(body);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw apiError('BadRequest', err.message);
    throw err;
  }
}
