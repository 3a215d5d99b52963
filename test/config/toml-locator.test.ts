import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TomlLocator } from '../../src/config/toml-locator.js';

const TEXT = `# a comment
[runner]
listen = "127.0.0.1:9529"

[[inputs.pythond]]
name = "a"
description = """
dirs = ["not a key: inside a multi-line string"]
"""
dirs = ["a"]
[inputs.pythond.tags]
host = "x"

[[inputs.pythond]]
name = "b"
"quoted key" = 1
[inputs.pythond.tags]
host = "y"

[[outputs.file]]
path = "one.jsonl"
[[outputs.file]]
'path' = "two.jsonl"
`;

describe('TomlLocator', () => {
  const locator = new TomlLocator(TEXT);
  const lines: [string, number | undefined][] = [
    ['runner', 2],
    ['runner.listen', 3],
    ['runner.concurrency', 2],
    ['inputs.pythond[0]', 5],
    ['inputs.pythond[0].name', 6],
    ['inputs.pythond[0].dirs', 10],
    ['inputs.pythond[0].tags.host', 12],
    ['inputs.pythond[1].name', 15],
    ['inputs.pythond[1].quoted key', 16],
    ['inputs.pythond[1].tags', 17],
    ['inputs.pythond[1].tags.host', 18],
    ['inputs.pythond[1].dirs[3]', 14],
    ['outputs.file[0].path', 21],
    ['outputs.file[1].path', 23],
    ['outputs.file[10]', 20],
    ['nowhere', undefined],
  ];
  for (const [key, line] of lines) it(`finds ${key} on line ${line}`, () => assert.equal(locator.lineOf(key), line));
});
