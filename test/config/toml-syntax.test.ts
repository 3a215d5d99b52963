import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseToml, TomlSyntaxError } from '../../src/config/toml-syntax.js';

/** A TOML mistake people make, and what pythond says of it: where (line:column), what is wrong in words, the line and a caret. */
const MISTAKES: { mistake: string; toml: string; said: string }[] = [
  {
    mistake: 'a string not closed',
    toml: '[[inputs.pythond]]\nname = "mine\ndirs = ["mine"]\n',
    said: 'config pythond.toml:2:13: this "string" is not closed on its line: end it with " (a string over several lines is written """...""")\n  2 | name = "mine\n    |             ^',
  },
  {
    mistake: 'a key without a value',
    toml: 'name =\n',
    said: 'config pythond.toml:1:7: name = has no value: write one after the =, such as "text", 10, true or ["a", "b"]\n  1 | name =\n    |       ^',
  },
  {
    mistake: 'text without quotes',
    toml: 'name = mine\n',
    said: 'config pythond.toml:1:8: mine is not a TOML value: text is written in quotes ("mine")\n  1 | name = mine\n    |        ^',
  },
  {
    mistake: 'a boolean as Python writes it',
    toml: 'enabled = True\n',
    said: 'config pythond.toml:1:11: True is not a TOML value: write true or false, in lower case\n  1 | enabled = True\n    |           ^',
  },
  {
    mistake: 'a key without =',
    toml: 'name "mine"\n',
    said: 'config pythond.toml:1:6: expected = after the key name, found "mine": a setting is written key = value, and a key with a space in it in quotes ("my key" = 1)\n  1 | name "mine"\n    |      ^',
  },
  {
    mistake: 'a table header not closed',
    toml: '[[inputs.pythond]\nname = "x"\n',
    said: 'config pythond.toml:1:18: this table header is not closed: end it with ]]\n  1 | [[inputs.pythond]\n    |                  ^',
  },
  {
    mistake: 'a table written twice',
    toml: '[runner]\nconcurrency = 1\n[runner]\n',
    said: 'config pythond.toml:3:1: [runner] is written a second time: a table is written once (a list of blocks is written [[runner]], each block under its own)\n  3 | [runner]\n    | ^',
  },
  {
    mistake: 'a key set twice',
    toml: 'name = "a"\nname = "b"\n',
    said: 'config pythond.toml:2:1: name is set a second time: a key is set once in its table\n  2 | name = "b"\n    | ^',
  },
  {
    mistake: 'array items without commas',
    toml: 'dirs = ["a" "b"]\n',
    said: 'config pythond.toml:1:13: expected , or ] in an array, found "b": its items are separated by commas, and it ends with ] (on this line or a later one)\n  1 | dirs = ["a" "b"]\n    |             ^',
  },
  {
    mistake: 'a Windows path with backslashes',
    toml: 'path = "C:\\data"\n',
    said: 'config pythond.toml:1:11: a backslash in a "string" starts an escape TOML does not know: write \\\\ for a backslash, or use single quotes (\'C:\\path\'), which have no escapes\n  1 | path = "C:\\data"\n    |           ^',
  },
  {
    mistake: 'two settings on one line',
    toml: 'a = 1 b = 2\n',
    said: 'config pythond.toml:1:7: "b" after the value: one key = value per line (a comment starts with #)\n  1 | a = 1 b = 2\n    |       ^',
  },
  {
    mistake: 'a multi-line string never closed',
    toml: 'a = """text\nmore\n',
    said: 'config pythond.toml:3:1: a """multi-line string""" is not closed before the end of the file\n  3 | \n    | ^',
  },
];

describe('TOML syntax errors', () => {
  for (const { mistake, toml, said } of MISTAKES) {
    it(`says ${mistake} in words, at its line and column, with the line and a caret`, () => {
      assert.throws(
        () => parseToml(toml, 'pythond.toml'),
        (err: unknown) => {
          assert.ok(err instanceof TomlSyntaxError);
          assert.equal(err.message, said);
          return true;
        },
      );
    });
  }

  it('keeps tabs under the caret, so that it stands under the place', () => {
    assert.throws(() => parseToml('\tname = "x\n', 'p.toml'), { message: /\n {2}1 \| \tname = "x\n {4}\| \t {9}\^$/ });
  });
});
