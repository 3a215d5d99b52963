import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { brokenLink, headingAnchors, markdownLinks } from '../helpers/markdown.js';

/** The files below `dir` (a path from the repository root) whose name passes `keep`, as paths from the root. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && keep(entry.name))
    .map((entry) => path.relative(REPO_ROOT, path.join(entry.parentPath, entry.name)))
    .sort();
}

const isMarkdown = (name: string): boolean => name.endsWith('.md');
const isCode = (name: string): boolean => /\.(ts|js|py|html|css|sh|toml|ya?ml)$/.test(name) || name === 'Dockerfile';

/** The documentation: the README, docs/, and the READMEs beside the code. */
const DOCUMENTATION = [
  'README.md',
  ...filesUnder('docs', isMarkdown),
  ...filesUnder('src', (name) => name === 'README.md'),
  ...filesUnder('python.d/core', isMarkdown),
  ...filesUnder('docker', isMarkdown),
];

/** Code, configs and scripts, whose comments and messages name pages of docs/. */
const CODE = [
  ...['src', 'workers', 'bench', 'test', 'python.d/core', 'docker', 'web'].flatMap((dir) => filesUnder(dir, isCode)),
  'compose.yaml',
  'pythond.toml',
  'Dockerfile',
];

/** Every link of the Markdown `files` (paths from `root`) that leads nowhere, as `file:line: target: why`. */
function brokenLinks(root: string, files: string[]): string[] {
  return files.flatMap((file) =>
    markdownLinks(readFileSync(path.join(root, file), 'utf8')).flatMap(({ target, line }) => {
      const why = brokenLink(root, file, target);
      return why === undefined ? [] : [`${file}:${line}: ${target}: ${why}`];
    }),
  );
}

describe('documentation links', () => {
  it('anchors headings as GitHub does', () => {
    const headings = ['# pythond', '## `GET /`: the status page', '## Collectors that never return (services)', '## Tests', '## Tests'];
    const anchors = headingAnchors([...headings, '```', '# a comment in a code block', '```'].join('\n'));
    assert.deepEqual([...anchors], ['pythond', 'get--the-status-page', 'collectors-that-never-return-services', 'tests', 'tests-1']);
  });

  it('finds a link to a missing file and one to a missing heading, and nothing in code', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-links-'));
    writeFileSync(path.join(root, 'other.md'), '# Other\n\n## Second part\n');
    writeFileSync(
      path.join(root, 'guide.md'),
      [
        '# Guide',
        '',
        '[here](#guide), [there](other.md#second-part), [away](https://example.com/x.md), ![a picture](other.md)',
        '[gone](missing.md) and [no such part](other.md#third-part)',
        '`[quoted](missing.md)`',
        '```',
        '[in a code block](missing.md)',
        '```',
        '[not here](#nowhere)',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks(root, ['guide.md']), [
      'guide.md:4: missing.md: missing.md does not exist',
      'guide.md:4: other.md#third-part: other.md has no heading with the anchor #third-part',
      'guide.md:9: #nowhere: guide.md has no heading with the anchor #nowhere',
    ]);
  });

  it('lead to files that exist and headings they have, in the README, docs/ and the READMEs beside the code', () => {
    assert.ok(DOCUMENTATION.includes('docs/configuration.md') && DOCUMENTATION.includes('src/http/README.md'));
    assert.deepEqual(brokenLinks(REPO_ROOT, DOCUMENTATION), []);
  });

  it('name pages of docs/ that exist, with headings they have, in code and configs', () => {
    const named = CODE.flatMap((file) =>
      [...readFileSync(path.join(REPO_ROOT, file), 'utf8').matchAll(/(?<![\w./-])docs\/[\w.-]+\.md(?:#[\w-]+)?/g)].map(([page]) => ({ file, page: page! })),
    );
    assert.ok(named.length > 0);
    assert.deepEqual(
      named.flatMap(({ file, page }) => {
        const why = brokenLink(REPO_ROOT, 'README.md', page);
        return why === undefined ? [] : [`${file}: ${page}: ${why}`];
      }),
      [],
    );
  });
});
