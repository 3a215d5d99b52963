import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gitReposSchema, repoSchema } from '../../src/config/git-repos.js';
import { inputSchema, runnerSchema } from '../../src/config/schema.js';
import { PLUGINS } from '../../src/plugins.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { markdownTable } from '../helpers/markdown.js';

const runnerKeys = Object.keys(runnerSchema(REPO_ROOT, PLUGINS.runtimes));
const inputKeys = Object.keys(inputSchema(REPO_ROOT));

/** The keys a section of pythond.toml sets or shows (`key = value`, or commented out, header included: `# key = value`), up to the next header. */
function sampleKeys(header: string): string[] {
  const lines = readFileSync(path.join(REPO_ROOT, 'pythond.toml'), 'utf8').split('\n');
  const isHeader = (line: string): boolean => /^(# )?\[/.test(line);
  const start = lines.findIndex((line) => line.replace(/^# /, '') === header);
  assert.notEqual(start, -1, `pythond.toml has a ${header} section`);
  const end = lines.findIndex((line, i) => i > start && isHeader(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).flatMap((line) => /^#? ?([a-z_]+) = /.exec(line)?.[1] ?? []);
}

describe('documented config keys', () => {
  it('pythond.toml names every [runner] key the schema knows, and no other', () => {
    assert.deepEqual(sampleKeys('[runner]').sort(), [...runnerKeys].sort());
  });

  it('pythond.toml names every [[inputs.pythond]] key the schema knows, and no other', () => {
    assert.deepEqual(sampleKeys('[[inputs.pythond]]').sort(), [...inputKeys].sort());
  });

  it('pythond.toml names every [git_repos] and [[git_repos.repo]] key the schema knows, and no other', () => {
    assert.deepEqual(sampleKeys('[git_repos]').sort(), Object.keys(gitReposSchema()).sort());
    assert.deepEqual(sampleKeys('[[git_repos.repo]]').sort(), Object.keys(repoSchema(REPO_ROOT)).sort());
  });

  it("docs/configuration.md's Configuration table lists every key DataKit's block does not have", () => {
    // `| [runner] | key | ...` then `| | key2 | ...`: the table named in the first cell, until the next one.
    let table = '';
    const documented = new Set<string>();
    for (const [first, keys] of markdownTable('docs/configuration.md', 'Configuration')) {
      if (first) table = first;
      for (const [, key] of keys!.matchAll(/`([a-z_]+)`/g)) documented.add(`${table} ${key}`);
    }
    const datakit = ['name', 'cmd', 'dirs', 'envs']; // the sentence above the table names them
    const missing = [
      ...runnerKeys.map((key) => `\`[runner]\` ${key}`),
      ...inputKeys.filter((key) => !datakit.includes(key)).map((key) => `\`[[inputs.pythond]]\` ${key}`),
    ].filter((key) => !documented.has(key));
    assert.deepEqual(missing, []);
  });
});
