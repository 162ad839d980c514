// How every bench prints: one JSON line (--json) or a table, both from the same rows.
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  note?: string;
}

export function report(bench: string, rows: BenchRow[], extra: Record<string, unknown>, json: boolean): void {
  if (json) {
    const results = Object.fromEntries(rows.map((row) => [row.name, { value: round(row.value), unit: row.unit, ...(row.baseline === undefined ? {} : { baseline: round(row.baseline), ratio: round(row.value / row.baseline) }) }]));
    process.stdout.write(`${JSON.stringify({ bench, ...extra, results })}\n`);
    return;
  }
  const lines = [['scenario', 'value', 'unit', 'baseline', 'ratio', 'note']];
  for (const row of rows) {
    lines.push([row.name, fmt(row.value), row.unit, row.baseline === undefined ? '' : fmt(row.baseline), row.baseline === undefined ? '' : `${(row.value / row.baseline).toFixed(2)}x`, row.note ?? '']);
  }
  process.stdout.write(`${bench} ${JSON.stringify(extra)}\n`);
  printTable(lines);
}

/** Prints rows of cells as aligned columns; the first row is the header. */
export function printTable(lines: string[][]): void {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  for (const line of lines) process.stdout.write(`${line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

export const round = (n: number) => Math.round(n * 100) / 100;
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));
