import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inputSchema, runnerSchema } from '../../src/config/schema.js';
import { PLUGINS } from '../../src/plugins.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { markdownTable } from '../helpers/markdown.js';

const runnerKeys = Object.keys(runnerSchema(REPO_ROOT, PLUGINS.runtimes));
const inputKeys = Object.keys(inputSchema());

/** The keys a section of pythond.toml sets or shows commented out (`# key = value`), from its header to the next one. */
function sampleKeys(header: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'pythond.toml'), 'utf8');
  const start = text.indexOf(`\n${header}\n`);
  assert.notEqual(start, -1, `pythond.toml has a ${header} section`);
  const rest = text.slice(start + header.length + 2);
  const section = rest.slice(0, rest.search(/^\[/m) === -1 ? undefined : rest.search(/^\[/m));
  return [...section.matchAll(/^#? ?([a-z_]+) = /gm)].map((match) => match[1]!);
}

describe('documented config keys', () => {
  it('pythond.toml names every [runner] key the schema knows, and no other', () => {
    assert.deepEqual(sampleKeys('[runner]').sort(), [...runnerKeys].sort());
  });

  it('pythond.toml names every [[inputs.pythond]] key the schema knows, and no other', () => {
    assert.deepEqual(sampleKeys('[[inputs.pythond]]').sort(), [...inputKeys].sort());
  });

  it("README's Configuration table lists every key DataKit's block does not have", () => {
    // `| [runner] | key | ...` then `| | key2 | ...`: the table named in the first cell, until the next one.
    let table = '';
    const documented = new Set<string>();
    for (const [first, keys] of markdownTable('README.md', 'Configuration')) {
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
