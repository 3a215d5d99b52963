import { existsSync, readFileSync } from 'node:fs';
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

/** The lines of a Markdown text outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { line: string; number: number }[] {
  let fenced = false;
  return markdown.split('\n').flatMap((line, i) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ line, number: i + 1 }];
  });
}

/**
 * The anchors GitHub gives a file's headings: the heading's text (a link's
 * text without its target), lowercase, every character but letters, digits,
 * `-`, `_` and spaces dropped, each space a `-`; a repeated anchor gets
 * `-1`, `-2`, ...
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line } of proseLines(markdown)) {
    const heading = /^#{1,6} +(.*?)(?: +#+)? *$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The targets of a Markdown text's inline links and images, outside code, with their line numbers. */
export function markdownLinks(markdown: string): { target: string; line: number }[] {
  return proseLines(markdown).flatMap(({ line, number }) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?: +"[^"]*")?\)/g)].map(([, target]) => ({ target: target!, line: number })),
  );
}

/**
 * Where `target`, written in `from` (a path from the repository root), does
 * not lead: to no file, or to an anchor no heading of its Markdown file has.
 * Undefined when it leads somewhere, or leaves the repository (a URL).
 */
export function brokenLink(root: string, from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  const [file, anchor] = target.split('#', 2) as [string, string | undefined];
  const to = file === '' ? from : path.join(path.dirname(from), decodeURIComponent(file));
  if (!existsSync(path.join(root, to))) return `${to} does not exist`;
  if (anchor === undefined || !to.endsWith('.md')) return undefined;
  return headingAnchors(readFileSync(path.join(root, to), 'utf8')).has(anchor) ? undefined : `${to} has no heading with the anchor #${anchor}`;
}
