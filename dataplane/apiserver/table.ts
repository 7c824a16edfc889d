/**
 * Server-side printing: objects as a meta.k8s.io/v1 Table (k8s.io/apiserver handlers/response.go
 * `asTable`), the columns and cells from the same printers `knet get` uses (base/printers/printers.ts).
 * Each row carries the object as PartialObjectMetadata (includeObject=Metadata, the default),
 * the whole object (Object) or nothing (None): kubectl needs the metadata for -A, --show-labels
 * and -L.
 */
import type { KObject, Kind } from '../base/model/object.js';
import { printerOf } from '../base/printers/printers.js';
import type { Cell, ColumnDefinition, PrintContext } from '../base/printers/columns.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: Array<Omit<ColumnDefinition, 'knetOnly'>>;
  rows: Array<{ cells: Cell[]; object?: unknown }>;
}

/** The columns kubectl would get from a real apiserver (knet's own extra columns left out). */
export function columnDefinitions(kind: Kind): Array<Omit<ColumnDefinition, 'knetOnly'>> {
  return printerOf(kind)
    .columns.filter((c) => !c.knetOnly)
    .map(({ knetOnly: _k, ...c }) => c);
}

export function partialObjectMetadata(o: KObject, apiVersion = 'meta.k8s.io/v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion, metadata: o.metadata ?? {} };
}

export function tableRow(kind: Kind, o: KObject, include: IncludeObject, context: PrintContext = {}, metaVersion = 'v1'): { cells: Cell[]; object?: unknown } {
  const p = printerOf(kind);
  const all = p.cells(o, context);
  const cells = p.columns.flatMap((c, i) => (c.knetOnly ? [] : [all[i] ?? '']));
  if (include === 'None') return { cells };
  return { cells, object: include === 'Object' ? o : partialObjectMetadata(o, `meta.k8s.io/${metaVersion}`) };
}

export function toTable(
  kind: Kind,
  objects: readonly KObject[],
  opts: { include: IncludeObject; resourceVersion?: string; continue?: string; remainingItemCount?: number; withColumns?: boolean; metaVersion?: string },
): Table {
  const metaVersion = opts.metaVersion ?? 'v1';
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${metaVersion}`,
    metadata: {
      ...(opts.resourceVersion !== undefined ? { resourceVersion: opts.resourceVersion } : {}),
      ...(opts.continue ? { continue: opts.continue } : {}),
      ...(opts.remainingItemCount !== undefined ? { remainingItemCount: opts.remainingItemCount } : {}),
    },
    columnDefinitions: opts.withColumns === false ? [] : columnDefinitions(kind),
    rows: objects.map((o) => tableRow(kind, o, opts.include, {}, metaVersion)),
  };
}
