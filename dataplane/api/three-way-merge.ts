/**
 * `kubectl apply`'s three-way merge, so that re-applying a manifest changes only what the
 * manifest itself changed: fields someone else set (a controller's annotations, `knet scale`'s
 * replicas when the manifest has none) are kept, fields the previous apply set and this one
 * dropped are removed. Like kubectl, the last applied manifest is kept in the annotation
 * `kubectl.kubernetes.io/last-applied-configuration`.
 *
 * Objects merge key by key; lists and scalars are replaced whole (a simplification of the
 * strategic merge patch, which merges some lists by key).
 */
import type { KObject } from '../model/object.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The manifest as it will be recorded in the annotation (without the annotation itself). */
export function lastAppliedOf(manifest: KObject): string {
  const annotations = { ...manifest.metadata?.annotations };
  delete annotations[LAST_APPLIED];
  const metadata = { ...manifest.metadata, annotations: Object.keys(annotations).length ? annotations : undefined };
  return JSON.stringify({ ...manifest, metadata });
}

/** Adds the last-applied annotation to a manifest about to be written. */
export function withLastApplied(manifest: KObject): KObject {
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata?.annotations, [LAST_APPLIED]: lastAppliedOf(manifest) } } };
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

/** current + (desired − lastApplied): the object an apply of `desired` leaves behind. */
export function threeWayMerge(current: KObject, desired: KObject): KObject {
  const { status: _status, ...live } = current as Json;
  const merged = mergeValue(live, readLastApplied(current), withLastApplied(desired) as Json) as KObject;
  return merged;
}

function mergeValue(current: unknown, last: unknown, desired: unknown): unknown {
  if (!isObject(desired) || !isObject(current)) return desired;
  const out: Json = { ...current };
  for (const [k, v] of Object.entries(desired)) {
    if (v === undefined) continue;
    out[k] = mergeValue(current[k], isObject(last) ? last[k] : undefined, v);
  }
  if (isObject(last)) for (const k of Object.keys(last)) if (!(k in desired) || desired[k] === undefined) delete out[k];
  return out;
}
