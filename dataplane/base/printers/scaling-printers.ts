/**
 * Printers of the kinds that set a replica count (k8s pkg/printers/internalversion/printers.go
 * printReplicationController, printHorizontalPodAutoscaler with formatHPAMetrics): an RC's
 * DESIRED/CURRENT/READY and equality selector; an HPA's REFERENCE, TARGETS (current/target per
 * metric, the first two then "+ N more..."), MINPODS, MAXPODS and REPLICAS.
 */
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricTarget, MetricValueStatus } from 'kubernetes-types/autoscaling/v2.js';
import { age } from './age.js';
import { AGE, NAME, col, int, labelsText, podTemplateCells, wide, type Printer } from './columns.js';

const unknown = '<unknown>';

/** A target or current value as the printer shows it: "80%" for a utilization, else the quantity. */
function valueText(t: MetricTarget | MetricValueStatus | undefined, which: 'averageValue' | 'value'): string {
  return String(t?.[which] ?? '');
}

/** One metric's "current/target" (formatHPAMetrics' switch). */
function metricText(spec: MetricSpec, status: MetricStatus | undefined): string {
  const pair = (cur: MetricValueStatus | undefined, target: MetricTarget | undefined, avgSuffix: boolean): string => {
    if (target?.averageValue !== undefined) return `${cur?.averageValue !== undefined ? valueText(cur, 'averageValue') : unknown}/${valueText(target, 'averageValue')}${avgSuffix ? ' (avg)' : ''}`;
    return `${cur ? valueText(cur, 'value') : unknown}/${valueText(target, 'value')}`;
  };
  const resource = (name: string, cur: MetricValueStatus | undefined, target: MetricTarget | undefined): string => {
    if (target?.averageValue !== undefined) return `${name}: ${cur ? valueText(cur, 'averageValue') : unknown}/${valueText(target, 'averageValue')}`;
    const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : unknown;
    return `${name}: ${current}/${target?.averageUtilization !== undefined ? `${target.averageUtilization}%` : '<auto>'}`;
  };
  switch (spec.type) {
    case 'External':
      return pair(status?.external?.current, spec.external?.target, true);
    case 'Pods':
      return `${status?.pods ? valueText(status.pods.current, 'averageValue') : unknown}/${valueText(spec.pods?.target, 'averageValue')}`;
    case 'Object':
      return pair(status?.object?.current, spec.object?.target, true);
    case 'Resource':
      return resource(spec.resource?.name ?? '', status?.resource?.current, spec.resource?.target);
    case 'ContainerResource':
      return resource(spec.containerResource?.name ?? '', status?.containerResource?.current, spec.containerResource?.target);
    default:
      return '<unknown type>';
  }
}

/** formatHPAMetrics: "<none>" without metrics, else the first two and "+ N more...". */
export function hpaTargetsText(specs: readonly MetricSpec[] | undefined, statuses: readonly MetricStatus[] | undefined): string {
  if (!specs?.length) return '<none>';
  const list = specs.map((s, i) => metricText(s, statuses?.[i]));
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

export const SCALING_PRINTERS = {
  ReplicationController: {
    columns: [
      NAME,
      int('Desired', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
      int('Current', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
      int('Ready', 'The number of ready replicas for this replication controller.'),
      AGE,
      wide('Containers', 'Names of each container in the template.'),
      wide('Images', 'Images referenced by each container in the template.'),
      wide('Selector', 'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
    ],
    cells: (o) => {
      const rc = o as ReplicationController;
      // labels.FormatLabels prints an empty selector as <none>.
      return [rc.metadata!.name!, rc.spec?.replicas ?? 1, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0, age(rc.metadata?.creationTimestamp), ...podTemplateCells(rc.spec?.template), labelsText(rc.spec?.selector)];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      NAME,
      col('Reference', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
      col('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.'),
      col('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
      col('MaxPods', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
      col('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
      AGE,
    ],
    cells: (o) => {
      const h = o as HorizontalPodAutoscaler;
      const ref = `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}`;
      const minPods = h.spec?.minReplicas === undefined ? '<unset>' : String(h.spec.minReplicas);
      return [h.metadata!.name!, ref, hpaTargetsText(h.spec?.metrics, h.status?.currentMetrics), minPods, h.spec?.maxReplicas ?? 0, h.status?.currentReplicas ?? 0, age(h.metadata?.creationTimestamp)];
    },
  },
} satisfies Record<string, Printer>;
