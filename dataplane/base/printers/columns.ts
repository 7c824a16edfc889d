/**
 * What a printer is made of (k8s pkg/printers/internalversion/printers.go): column definitions as
 * metav1.TableColumnDefinition describes them, the cells that fill them, and the columns and
 * cells several kinds share (NAME, AGE, a workload's pod template), so each kind's printer in
 * printers.ts names only what is its own.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { formatLabelSelector } from '../model/selector.js';
import type { KObject } from '../model/object.js';

/** Other objects a wide column is computed from (the CLI reads the store, not the proxy). */
export interface PrintContext {
  endpointSlices?: EndpointSlice[];
}

/**
 * A column as metav1.TableColumnDefinition describes it: kubectl upper-cases the name for the
 * header and shows priority-1 columns only with `-o wide`.
 */
export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: 0 | 1;
  /** A column only knet's own CLI shows (not served in the API's Tables, so kubectl prints what it prints against a real cluster). */
  knetOnly?: boolean;
}

export type Cell = string | number;

export interface Printer {
  columns: ColumnDefinition[];
  /** One cell per column, in order. */
  cells(o: KObject, context: PrintContext): Cell[];
}

export const col = (name: string, description: string, more: Partial<ColumnDefinition> = {}): ColumnDefinition => ({ name, type: 'string', format: '', description, priority: 0, ...more });
export const wide = (name: string, description: string, more: Partial<ColumnDefinition> = {}): ColumnDefinition => col(name, description, { priority: 1, ...more });
export const int = (name: string, description: string): ColumnDefinition => col(name, description, { type: 'integer' });

export const NAME = col('Name', 'Name must be unique within a namespace.', { format: 'name' });
export const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
const CONTAINERS = wide('Containers', 'Names of each container in the template.');
const IMAGES = wide('Images', 'Images referenced by each container in the template.');
const JOB_SELECTOR_DOC = 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors';

/** A pod template's wide columns: CONTAINERS and IMAGES (a StatefulSet's, which shows no selector). */
export const POD_TEMPLATE_COLUMNS = [CONTAINERS, IMAGES];
/** A workload's wide columns: its template's, then SELECTOR (Deployment, ReplicaSet, DaemonSet). */
export const TEMPLATE_COLUMNS = [...POD_TEMPLATE_COLUMNS, wide('Selector', 'Label selector for pods.')];
/** The same for Jobs and CronJobs: upstream describes their SELECTOR as the Job's own field. */
export const JOB_TEMPLATE_COLUMNS = [...POD_TEMPLATE_COLUMNS, wide('Selector', JOB_SELECTOR_DOC)];

export const none = '<none>';

/** The cells of POD_TEMPLATE_COLUMNS: container names and images, comma-separated. */
export function podTemplateCells(t: { spec?: { containers?: Array<{ name: string; image?: string }> } } | undefined): string[] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** The cells of TEMPLATE_COLUMNS and JOB_TEMPLATE_COLUMNS, from the workload's (or job template's) spec. */
export function templateCells(spec: { template?: PodTemplateSpec; selector?: LabelSelector } | undefined): string[] {
  return [...podTemplateCells(spec?.template), formatLabelSelector(spec?.selector)];
}

export const labelsText = (m: Record<string, string> | undefined) => (m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : none);

export const boolText = (b: boolean | undefined) => (b === undefined ? '<unset>' : b ? 'True' : 'False');

/**
 * The apiserver's default table (apiserver's rest.DefaultTableConvertor) for kinds with no printer
 * of their own (Role, ClusterRole, LimitRange): NAME and CREATED AT, the RFC 3339 creation time.
 */
export const DEFAULT_TABLE: Printer = {
  columns: [NAME, col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { type: 'date' })],
  cells: (o) => [o.metadata!.name!, o.metadata?.creationTimestamp ?? ''],
};
