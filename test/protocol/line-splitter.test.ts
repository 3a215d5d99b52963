import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from '../../src/protocol/line-splitter.js';

/** A splitter of lines up to `maxLine` bytes, and what it has told so far. */
function splitter(maxLine = 16) {
  const lines: string[] = [];
  const overflows: string[] = [];
  const s = new LineSplitter({ maxLine, onLine: (line) => lines.push(line.toString()), onOverflow: (head) => overflows.push(head.toString()) });
  const push = (...chunks: string[]) => {
    for (const chunk of chunks) s.push(Buffer.from(chunk));
  };
  return { push, lines, overflows };
}

describe('LineSplitter', () => {
  it('splits a chunk into its lines, without the newlines', () => {
    const s = splitter();
    s.push('one\ntwo\nthree\n');
    assert.deepEqual(s.lines, ['one', 'two', 'three']);
  });

  it('joins a line that arrives in pieces, and holds a last line until its newline comes', () => {
    const s = splitter();
    s.push('fi', 'rst\nsec', 'o', 'nd');
    assert.deepEqual(s.lines, ['first']);
    s.push('\n');
    assert.deepEqual(s.lines, ['first', 'second']);
  });

  it('skips empty lines', () => {
    const s = splitter();
    s.push('\n\na\n\n', '\nb\n');
    assert.deepEqual(s.lines, ['a', 'b']);
  });

  it('takes a line of exactly maxLine bytes', () => {
    const s = splitter(8);
    s.push('12345678\n', '1234', '5678\n');
    assert.deepEqual(s.lines, ['12345678', '12345678']);
    assert.deepEqual(s.overflows, []);
  });

  it('gives up a longer line: tells its head once, skips the rest up to its newline, then goes on', () => {
    const s = splitter(8);
    s.push('short\n123456789', 'more of the long line', ' and more\nnext\n');
    assert.deepEqual(s.lines, ['short', 'next']);
    assert.deepEqual(s.overflows, ['123456789']);
  });

  it('tells at most 256 bytes of an overflowing line, however long it is', () => {
    const s = splitter(300);
    s.push(`${'x'.repeat(200)}`, `${'y'.repeat(200)}\nafter\n`);
    assert.deepEqual(s.overflows, ['x'.repeat(200) + 'y'.repeat(56)]);
    assert.deepEqual(s.lines, ['after']);
  });

  it('owns the bytes of a line: reusing a pushed chunk does not change it', () => {
    const lines: Buffer[] = [];
    const s = new LineSplitter({ maxLine: 16, onLine: (line) => lines.push(line), onOverflow: () => {} });
    const chunk = Buffer.from('abc\n');
    s.push(chunk);
    chunk.write('xyz');
    assert.equal(lines[0]!.toString(), 'abc');
  });

  it('hands a long line over in a buffer of its own, which can be moved to a worker, whatever chunks it came in', () => {
    const lines: Buffer[] = [];
    const s = new LineSplitter({ maxLine: 1 << 20, onLine: (line) => lines.push(line), onOverflow: () => {} });
    const body = Buffer.alloc(100_000, 'x');
    s.push(Buffer.concat([Buffer.from('short\n'), body.subarray(0, 30_000)]));
    s.push(body.subarray(30_000));
    s.push(Buffer.from('\n'));
    assert.equal(lines.length, 2);
    const long = lines[1]!;
    assert.ok(long.equals(body));
    assert.equal(long.byteOffset, 0);
    assert.equal(long.buffer.byteLength, body.length);
  });
});
