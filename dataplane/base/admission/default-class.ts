/**
 * The one rule the DefaultIngressClass and DefaultStorageClass admission plugins share for
 * picking the default class when several are marked: the newest by creationTimestamp, ties
 * broken by name (upstream's getDefaultClass / volume util's GetDefaultClass).
 */
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** The default among `classes` (those `isDefault` accepts), or undefined when none is marked. */
export function newestDefault<T extends { metadata?: ObjectMeta }>(classes: Iterable<T>, isDefault: (c: T) => boolean): T | undefined {
  let best: T | undefined;
  for (const c of classes) if (isDefault(c) && (!best || newer(c, best))) best = c;
  return best;
}

/** Kubernetes timestamps have whole seconds (knet's store keeps milliseconds): compared as the apiserver sees them. */
function seconds(c: { metadata?: ObjectMeta }): number {
  return Math.floor((Date.parse(c.metadata?.creationTimestamp ?? '') || 0) / 1000);
}

function newer(a: { metadata?: ObjectMeta }, b: { metadata?: ObjectMeta }): boolean {
  const ta = seconds(a);
  const tb = seconds(b);
  if (ta !== tb) return ta > tb;
  return (a.metadata?.name ?? '') < (b.metadata?.name ?? '');
}
