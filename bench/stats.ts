/** Percentiles and the table every bench prints. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const round = (value: number, digits = 3): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** One measured figure, with the baseline measured in the same run when it has one. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** What the issue asks of value / baseline, e.g. "<= 2". */
  target?: string;
}

export function printTable(figures: Figure[], out: NodeJS.WritableStream = process.stdout): void {
  const rows = figures.map((f) => [
    f.name,
    `${round(f.value)} ${f.unit}`,
    f.baseline ? `${f.baseline.name} ${round(f.baseline.value)} ${f.unit}` : '',
    f.baseline?.value ? `${round(f.value / f.baseline.value, 2)}×` : '',
    f.target ?? '',
  ]);
  const header = ['figure', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) out.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
}
