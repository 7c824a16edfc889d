/**
 * `knet get`'s text tables: a kind's printer (printers.ts) laid out as kubectl lays out the
 * Table it receives — NAMESPACE with -A, wide columns with `-o wide`, names prefixed with their
 * type when several types were asked for, columns padded as its tabwriter pads them.
 */
import { KINDS, type KObject, type Kind } from '../model/object.js';
import type { PrintContext } from './columns.js';
import { printerOf } from './printers.js';

/** "deployment.apps": the type kubectl prefixes names with (`-o name`, tables of several types). */
function typeName(kind: Kind): string {
  const apiVersion = KINDS[kind].apiVersion;
  return `${kind.toLowerCase()}${apiVersion.includes('/') ? `.${apiVersion.split('/')[0]}` : ''}`;
}

/** `withKind`: names as `deployment.apps/web`, as kubectl prints a table when several types were asked for. */
export function printTable(kind: Kind, objects: KObject[], opts: { wide?: boolean; allNamespaces?: boolean; noHeaders?: boolean; context?: PrintContext; withKind?: boolean } = {}): string {
  const p = printerOf(kind);
  const shown = p.columns.map((c, i) => [c, i] as const).filter(([c]) => c.priority === 0 || opts.wide);
  const headers = [...(opts.allNamespaces ? ['NAMESPACE'] : []), ...shown.map(([c]) => c.name.toUpperCase())];
  const named = (cells: string[]) => (opts.withKind ? [`${typeName(kind)}/${cells[0]}`, ...cells.slice(1)] : cells);
  const rows = objects.map((o) => {
    const cells = p.cells(o, opts.context ?? {});
    return [...(opts.allNamespaces ? [o.metadata?.namespace ?? ''] : []), ...named(shown.map(([, i]) => String(cells[i] ?? '')))];
  });
  return formatTable(opts.noHeaders ? rows : [headers, ...rows]);
}

/** Columns padded to the widest cell plus three spaces, as kubectl's tabwriter does. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n');
}
