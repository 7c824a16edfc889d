/**
 * Defaults of the kinds knet stores without acting on them, as their groups' SetDefaults_ do
 * (pkg/apis/core/v1, storage/v1, rbac/v1, autoscaling/v2, scheduling/v1 defaults.go):
 *
 * - ReplicationController: replicas 1; an empty selector becomes the template's labels, and so do
 *   empty labels; the pod template's own defaults.
 * - PersistentVolume: reclaim policy Retain, volumeMode Filesystem; PersistentVolumeClaim:
 *   volumeMode Filesystem (both start Pending: registry-strategy.ts).
 * - StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate.
 * - LimitRange Container items: default ← max, defaultRequest ← default, then ← min.
 * - RoleBinding/ClusterRoleBinding: roleRef.apiGroup and User/Group subjects' apiGroup
 *   rbac.authorization.k8s.io.
 * - HorizontalPodAutoscaler: minReplicas 1, an 80% CPU utilization metric when none is given,
 *   and a given behavior's unset scaling rules filled in.
 * - PriorityClass: preemptionPolicy PreemptLowerPriority.
 */
import { asObject, asObjects, ensureObject, setDefault, type JsonObject } from './json.js';
import { defaultPodTemplate } from './pod.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

function defaultReplicationController(o: JsonObject): void {
  const spec = ensureObject(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'replicas', 1);
  const template = asObject(spec.template);
  const templateLabels = asObject(asObject(template?.metadata)?.labels);
  if (templateLabels && Object.keys(templateLabels).length) {
    if (!asObject(spec.selector) || !Object.keys(asObject(spec.selector)!).length) spec.selector = { ...templateLabels };
    const meta = ensureObject(o, 'metadata');
    if (meta && (!asObject(meta.labels) || !Object.keys(asObject(meta.labels)!).length)) meta.labels = { ...templateLabels };
  }
  defaultPodTemplate(template);
}

function defaultLimitRange(o: JsonObject): void {
  for (const item of asObjects(asObject(o.spec)?.limits)) {
    if (item.type !== 'Container') continue;
    const def = { ...asObject(item.max), ...asObject(item.default) };
    const req = { ...asObject(item.min), ...def, ...asObject(item.defaultRequest) };
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(req).length) item.defaultRequest = req;
  }
}

function defaultBinding(o: JsonObject): void {
  const ref = asObject(o.roleRef);
  if (ref && !ref.apiGroup) ref.apiGroup = RBAC_GROUP;
  for (const s of asObjects(o.subjects)) if (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
}

const SCALE_UP = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
const SCALE_DOWN = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

/** GenerateHPAScaleUpRules / ScaleDownRules: the given rules' unset fields from the defaults. */
function scalingRules(given: JsonObject | undefined, defaults: JsonObject): JsonObject {
  return { ...structuredClone(defaults), ...given };
}

function defaultHorizontalPodAutoscaler(o: JsonObject): void {
  const spec = ensureObject(o, 'spec');
  if (!spec) return;
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  const behavior = asObject(spec.behavior);
  if (behavior) {
    behavior.scaleUp = scalingRules(asObject(behavior.scaleUp), SCALE_UP);
    behavior.scaleDown = scalingRules(asObject(behavior.scaleDown), SCALE_DOWN);
  }
}

/** The defaults of one of these kinds; false when the kind is not one of them. */
export function defaultMoreKinds(kind: string, o: JsonObject): boolean {
  const spec = (): JsonObject | undefined => ensureObject(o, 'spec');
  switch (kind) {
    case 'ReplicationController':
      defaultReplicationController(o);
      return true;
    case 'PersistentVolume': {
      const s = spec();
      if (s) {
        setDefault(s, 'persistentVolumeReclaimPolicy', 'Retain');
        setDefault(s, 'volumeMode', 'Filesystem');
      }
      return true;
    }
    case 'PersistentVolumeClaim': {
      const s = spec();
      if (s) setDefault(s, 'volumeMode', 'Filesystem');
      return true;
    }
    case 'StorageClass':
      setDefault(o, 'reclaimPolicy', 'Delete');
      setDefault(o, 'volumeBindingMode', 'Immediate');
      return true;
    case 'LimitRange':
      defaultLimitRange(o);
      return true;
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      defaultBinding(o);
      return true;
    case 'HorizontalPodAutoscaler':
      defaultHorizontalPodAutoscaler(o);
      return true;
    case 'PriorityClass':
      setDefault(o, 'preemptionPolicy', 'PreemptLowerPriority');
      return true;
    default:
      return false;
  }
}
