/**
 * Two of the apiserver's default admission plugins, as they leave every Pod (never a template):
 *
 * - DefaultTolerationSeconds (plugin/pkg/admission/defaulttolerationseconds): a pod that does not
 *   already tolerate them gets `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable`
 *   NoExecute tolerations for 300 s (what `kubectl describe pod` lists under Tolerations);
 * - Priority (plugin/pkg/admission/priority): with no priorityClassName (and no default class),
 *   `priority: 0` and `preemptionPolicy: PreemptLowerPriority`; the two built-in classes give their
 *   values. knet stores no PriorityClasses, so another class name is left as given (upstream
 *   would refuse the pod unless that class exists).
 *
 * Both are idempotent, so they run with the other defaults on every write.
 */
import { asObjects, setDefault, type JsonObject } from './json.js';

export const DEFAULT_TOLERATION_SECONDS = 300;
const NO_EXECUTE_TAINTS = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'];

/** The built-in PriorityClasses (pkg/apis/scheduling SystemPriorityClasses). */
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = {
  'system-cluster-critical': 2_000_000_000,
  'system-node-critical': 2_000_001_000,
};

export function defaultTolerationSeconds(spec: JsonObject): void {
  const tolerations = asObjects(spec.tolerations);
  const tolerates = (key: string) => tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added = NO_EXECUTE_TAINTS.filter((key) => !tolerates(key)).map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS }));
  if (added.length) spec.tolerations = [...(Array.isArray(spec.tolerations) ? spec.tolerations : []), ...added];
}

export function defaultPriority(spec: JsonObject): void {
  const className = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  const priority = className === '' ? 0 : SYSTEM_PRIORITY_CLASSES[className];
  if (priority === undefined) return;
  setDefault(spec, 'priority', priority);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
}
