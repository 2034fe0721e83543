/**
 * Go's text/tabwriter (no flags, space padding), which kubectl's printers write through: cells end at '\t', the
 * last cell of a line belongs to no column, and a column's width is set per block of consecutive lines that have a
 * cell in it (max(text width + padding, minwidth)). kubectl get uses minwidth 6 / padding 3
 * (cli-runtime printers.GetNewTabWriter); kubectl describe uses minwidth 0 / padding 2 (describe.tabbedString).
 */
export interface TabOptions {
  minwidth: number;
  padding: number;
}

export const GET_TABS: TabOptions = { minwidth: 6, padding: 3 };
export const DESCRIBE_TABS: TabOptions = { minwidth: 0, padding: 2 };

const width = (s: string): number => [...s].length;

function writeLines(lines: string[][], from: number, to: number, widths: number[], out: string[]): void {
  for (let i = from; i < to; i++) {
    const cells = lines[i]!;
    out.push(
      cells
        .map((c, j) =>
          j < widths.length && j < cells.length - 1 ? c + ' '.repeat(Math.max(0, widths[j]! - width(c))) : c,
        )
        .join(''),
    );
  }
}

function format(
  lines: string[][],
  line0: number,
  line1: number,
  widths: number[],
  opts: TabOptions,
  out: string[],
): void {
  const column = widths.length;
  let from = line0;
  for (let t = line0; t < line1; t++) {
    if (column >= lines[t]!.length - 1) continue;
    writeLines(lines, from, t, widths, out);
    from = t;
    let w = opts.minwidth;
    for (; t < line1 && column < lines[t]!.length - 1; t++) w = Math.max(w, width(lines[t]![column]!) + opts.padding);
    format(lines, from, t, [...widths, w], opts, out);
    from = t;
  }
  writeLines(lines, from, line1, widths, out);
}

/** Formats newline-terminated, tab-separated text as the Go tab writer would, once flushed. */
export function tabwrite(text: string, opts: TabOptions): string {
  const trailing = text.endsWith('\n');
  const lines = (trailing ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  format(lines, 0, lines.length, [], opts, out);
  return out.join('\n') + (trailing ? '\n' : '');
}

/** Rows of cells as `kubectl get` prints them. */
export function tabulate(rows: string[][]): string {
  if (rows.length === 0) return '';
  return tabwrite(rows.map((r) => r.join('\t')).join('\n') + '\n', GET_TABS);
}
