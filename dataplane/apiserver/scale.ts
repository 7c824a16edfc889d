/**
 * The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets and
 * ReplicationControllers (whose selector is a plain label map):
 * `kubectl scale` reads and patches it. spec.replicas is the object's; status.selector is its
 * selector as a string, what a HorizontalPodAutoscaler reads.
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { ApiResource } from '../base/model/api-resources.js';
import type { KObject } from '../base/model/object.js';
import { formatRequirements, labelSelectorRequirements } from '../base/model/selector.js';
import { jsonReply, type Reply } from './api-request.js';
import { badRequest, invalid } from './status.js';

interface Scalable {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

export function toScale(_r: ApiResource, o: KObject): KObject {
  const s = o as KObject & Scalable;
  const selector = o.kind === 'ReplicationController' ? { matchLabels: s.spec?.selector as Record<string, string> | undefined } : s.spec?.selector;
  const reqs = labelSelectorRequirements(selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata?.name,
      namespace: o.metadata?.namespace,
      uid: o.metadata?.uid,
      resourceVersion: o.metadata?.resourceVersion,
      creationTimestamp: o.metadata?.creationTimestamp,
    },
    spec: { replicas: s.spec?.replicas ?? 1 },
    status: { replicas: s.status?.replicas ?? 0, selector: reqs ? formatRequirements(reqs) : '' },
  };
}

/** The object with the Scale's spec.replicas (422 when it is not a non-negative integer). */
export function fromScale(_r: ApiResource, current: KObject, scale: KObject): KObject {
  if (typeof scale !== 'object' || scale === null) throw badRequest('the body must be a Scale object');
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  const name = current.metadata?.name ?? '';
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    const message = replicas === undefined ? 'spec.replicas: Required value' : `spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`;
    throw invalid('Scale', 'autoscaling', name, [{ field: 'spec.replicas', type: replicas === undefined ? 'Required' : 'Invalid', message }]);
  }
  if (scale.metadata?.name !== undefined && scale.metadata.name !== name) throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${name})`);
  const rv = scale.metadata?.resourceVersion;
  return { ...current, metadata: { ...current.metadata, ...(rv ? { resourceVersion: rv } : {}) }, spec: { ...(current.spec as object), replicas } };
}

export function scaleReply(r: ApiResource, o: KObject, headers?: Record<string, string>, code = 200): Reply {
  return jsonReply(code, toScale(r, o), 'application/json', headers);
}
