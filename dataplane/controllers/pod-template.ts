/**
 * A Pod made from a controller's pod template (controller.GetPodFromTemplate): the
 * template's labels, annotations and spec, a controller reference to the owner, and what the
 * apiserver adds on create — the Pending phase and the Pod-only defaults (enableServiceLinks,
 * requests from limits) that templates do not get.
 */
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KObject } from '../base/model/object.js';
import type { Informer } from '../base/informer/informer-types.js';
import { controlledBy } from '../base/informer/indexes.js';
import { newControllerRef } from './owner-references.js';
import { applyDefaults } from '../base/model/defaults/index.js';

export function podFromTemplate(owner: KObject, template: PodTemplateSpec | undefined, extra: { labels?: Record<string, string>; name?: string } = {}): Pod {
  const md = template?.metadata ?? {};
  return applyDefaults<Pod>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(extra.name ? { name: extra.name } : {}),
      namespace: owner.metadata?.namespace,
      labels: { ...md.labels, ...extra.labels },
      ...(md.annotations ? { annotations: { ...md.annotations } } : {}),
      ...(md.finalizers ? { finalizers: [...md.finalizers] } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
    status: { phase: 'Pending' },
  });
}

/** Pods of an owner, by controller reference: from a list, or through an informer's owner-UID index. */
export function podsControlledBy(pods: Pod[] | Informer<Pod>, owner: KObject): Pod[] {
  if (!Array.isArray(pods)) return controlledBy(pods, owner);
  const uid = owner.metadata?.uid;
  return pods.filter((p) => p.metadata?.namespace === owner.metadata?.namespace && p.metadata?.ownerReferences?.some((r) => r.controller && r.uid === uid));
}
