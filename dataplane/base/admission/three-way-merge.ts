/**
 * `kubectl apply`'s three-way merge, so that re-applying a manifest changes only what the
 * manifest itself changed: fields someone else set (a controller's annotations, `knet scale`'s
 * replicas when the manifest has none) are kept, fields the previous apply set and this one
 * dropped are removed. Like kubectl, the last applied manifest is kept in the annotation
 * `kubectl.kubernetes.io/last-applied-configuration`.
 *
 * The merge is kubectl's own: a three-way strategic merge patch (last applied → manifest,
 * live → manifest) applied to the live object, with the kinds' real merge keys, so lists such
 * as containers, ports and env merge by key and items others added are kept
 * (dataplane/base/patch).
 */
import { KINDS, isKind, type KObject, type Kind } from '../model/object.js';
import { stableJson } from './write-plan.js';
import { ANNOTATION_LAST_APPLIED } from '../model/well-known.js';
import { kindRef } from '../patch/api-schema.js';
import { createThreeWayMergePatch } from '../patch/strategic-diff.js';
import { applyStrategicMergePatch } from '../patch/strategic-merge.js';
import type { JsonMap } from '../patch/json-value.js';

export const LAST_APPLIED = ANNOTATION_LAST_APPLIED;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The manifest as kubectl records it in the annotation, byte for byte, so that a `kubectl apply`
 * of the same file after `knet apply` (or the other way round) finds nothing to change: the
 * manifest with its namespace filled in (kubectl's builder sets the default namespace on the
 * object), the annotation itself removed but `annotations: {}` kept, keys in Go's order
 * (sorted, as encoding/json writes maps), HTML characters escaped as Go's json.Marshal does,
 * and a trailing newline.
 */
export function lastAppliedOf(manifest: KObject): string {
  const annotations = { ...manifest.metadata?.annotations };
  delete annotations[LAST_APPLIED];
  const namespaced = isKind(manifest.kind ?? '') && KINDS[manifest.kind as Kind].namespaced;
  const metadata = { ...manifest.metadata, annotations, ...(namespaced ? { namespace: manifest.metadata?.namespace || 'default' } : {}) };
  return `${goJsonEscape(stableJson({ ...manifest, metadata }))}\n`;
}

/** encoding/json's HTML-safe escaping of `<`, `>`, `&` and the JavaScript line terminators. */
function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Adds the last-applied annotation to a manifest about to be written. */
export function withLastApplied(manifest: KObject): KObject {
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata?.annotations, [LAST_APPLIED]: lastAppliedOf(manifest) } } };
}

/** The object without the last-applied annotation (a plain write's). */
export function withoutLastApplied(o: KObject): KObject {
  if (!o.metadata?.annotations || !(LAST_APPLIED in o.metadata.annotations)) return o;
  const { [LAST_APPLIED]: _gone, ...annotations } = o.metadata.annotations;
  const { annotations: _old, ...metadata } = o.metadata;
  return { ...o, metadata: Object.keys(annotations).length ? { ...metadata, annotations } : metadata };
}

export function readLastApplied(current: KObject): Json | undefined {
  const text = current.metadata?.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * current + (desired − lastApplied): the object an apply of `desired` leaves behind (without
 * its status, which an apply never writes). Throws PatchError when the objects cannot be
 * merged (a list item without its merge key).
 */
export function threeWayMerge(current: KObject, desired: KObject): KObject {
  const { status: _status, ...rest } = current as Json;
  const ref = kindRef(current.kind ?? desired.kind ?? '');
  const live = asJson(rest);
  const patch = createThreeWayMergePatch((readLastApplied(current) ?? {}) as JsonMap, asJson(withLastApplied(desired)), live, ref);
  return applyStrategicMergePatch(live, patch, ref) as unknown as KObject;
}

/** The object as JSON values: fields set to undefined are absent, as they are on the wire. */
function asJson(o: object): JsonMap {
  return JSON.parse(JSON.stringify(o)) as JsonMap;
}
