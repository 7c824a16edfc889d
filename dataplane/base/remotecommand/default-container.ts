/**
 * Which container an exec or attach goes to when none is named, as kubectl picks it
 * (kubectl pkg/cmd/util/podcmd FindOrDefaultContainerByName): the
 * `kubectl.kubernetes.io/default-container` annotation when it names one, else the first
 * container — saying so when the pod has others (init and ephemeral ones count). A named
 * container must exist (init containers included). Pure; used by `knet exec`, the test API's
 * `cluster.exec`, and `knet logs` (base/container-logs/log-selection.ts, with logs' own words).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export function defaultContainer(pod: Pod, named?: string): { container: string; note?: string } | { error: string } {
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const all = [...containers, ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  if (named) {
    if (!all.some((c) => c.name === named)) return { error: `container ${named} not found in pod ${name}` };
    return { container: named };
  }
  if (containers.length === 0) return { error: `pod ${pod.metadata?.namespace}/${name} does not have any containers` };
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && all.some((c) => c.name === annotated)) return { container: annotated };
  const first = containers[0]!.name;
  if (containers.length > 1 || (pod.spec?.initContainers ?? []).length > 0 || (pod.spec?.ephemeralContainers ?? []).length > 0) {
    return { container: first, note: `Defaulted container "${first}" out of: ${allContainerNames(pod)}` };
  }
  return { container: first };
}

/** kubectl's podcmd.AllContainerNames: containers, then ephemeral ones, then init ones — "a, b, debug (ephem), init (init)". */
function allContainerNames(pod: Pod): string {
  return [
    ...(pod.spec?.containers ?? []).map((c) => c.name),
    ...(pod.spec?.ephemeralContainers ?? []).map((c) => `${c.name} (ephem)`),
    ...(pod.spec?.initContainers ?? []).map((c) => `${c.name} (init)`),
  ].join(', ');
}
