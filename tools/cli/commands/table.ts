/**
 * Printing a server-side meta.k8s.io Table as kubectl does (k8s.io/cli-runtime/pkg/printers/tableprinter.go): the
 * server computes every column and cell; the client drops priority > 0 columns unless -o wide, adds NAMESPACE first
 * for -A and LABELS last for --show-labels (from each row's object metadata), upper-cases the headers and lines up
 * the cells with kubectl's tab writer.
 */
import { tabulate } from '../tabwriter.js';

export interface ColumnDefinition {
  name: string;
  type?: string;
  priority?: number;
}

export interface TableRow {
  cells: unknown[];
  object?: { metadata?: { namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;
}

export interface Table {
  kind: 'Table';
  columnDefinitions: ColumnDefinition[] | null;
  rows: TableRow[] | null;
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface TableOptions {
  wide?: boolean;
  withNamespace?: boolean;
  showLabels?: boolean;
  /** Extra columns computed by svcctl from each row's object (e.g. DATAPLANE for nodes). */
  extra?: { header: string; cell: (row: TableRow) => string }[];
}

/** A cell as kubectl prints it: strings cut at the first line break (then "..."), nil as nothing. */
export function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') {
    const cut = cell.search(/[\f\n\r]/);
    return cut >= 0 ? `${cell.slice(0, cut)}...` : cell;
  }
  return typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
}

/** labels.FormatLabels: sorted k=v joined by commas, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels![k]}`).join(',');
}

export function printTable(tables: Table[], opts: TableOptions = {}): string {
  const columns = tables.find((t) => t.columnDefinitions)?.columnDefinitions ?? [];
  const shown = columns.map((c, i) => ({ c, i })).filter(({ c }) => opts.wide || !c.priority);
  const header = shown.map(({ c }) => c.name.toUpperCase());
  if (opts.withNamespace) header.unshift('NAMESPACE');
  if (opts.showLabels) header.push('LABELS');
  for (const e of opts.extra ?? []) header.push(e.header);
  const rows = tables
    .flatMap((t) => t.rows ?? [])
    .map((r) => {
      const cells = shown.map(({ i }) => cellText(r.cells[i]));
      if (opts.withNamespace) cells.unshift(r.object?.metadata?.namespace ?? '');
      if (opts.showLabels) cells.push(formatLabels(r.object?.metadata?.labels));
      for (const e of opts.extra ?? []) cells.push(e.cell(r));
      return cells;
    });
  return tabulate([header, ...rows]);
}

export const rowCount = (tables: Table[]): number => tables.reduce((n, t) => n + (t.rows?.length ?? 0), 0);
