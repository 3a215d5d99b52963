import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';

/**
 * The rows of the first table under `heading` in a Markdown file of the
 * repository, as lists of cell texts (without the header row).
 */
export function markdownTable(file: string, heading: string): string[][] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const at = text.split('\n').findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '') === heading);
  if (at === -1) throw new Error(`${file} has no heading "${heading}"`);
  const lines = text.split('\n').slice(at + 1);
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

/** `code` → code: the text of a Markdown cell without its backticks. */
export const unquoted = (cell: string): string => cell.replace(/^`|`$/g, '');
