import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { AttachDemuxer } from '../../src/runtimes/docker/attach-demuxer.js';

/** One frame of Docker's multiplexed attach stream. */
function frame(type: number, payload: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(Buffer.byteLength(payload), 4);
  return Buffer.concat([header, Buffer.from(payload)]);
}

/** A demuxer and every chunk it wrote to each side. */
function demuxer() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString();
  return { demuxer: new AttachDemuxer(stdout, stderr), out, err, stdout: () => text(out), stderr: () => text(err) };
}

describe('AttachDemuxer', () => {
  const stream = Buffer.concat([frame(1, 'hello\n'), frame(2, 'warning: x\n'), frame(1, ''), frame(1, '{"type":"done"}\n'), frame(2, 'bye\n')]);

  it('sends stdout frames to stdout and stderr frames to stderr, in order', () => {
    const d = demuxer();
    d.demuxer.push(stream);
    assert.equal(d.stdout(), 'hello\n{"type":"done"}\n');
    assert.equal(d.stderr(), 'warning: x\nbye\n');
  });

  it('reads the same whatever the chunks: headers and payloads cut anywhere, one byte at a time included', () => {
    for (const size of [1, 2, 3, 5, 7, 8, 9, 13, 64]) {
      const d = demuxer();
      for (let at = 0; at < stream.length; at += size) d.demuxer.push(stream.subarray(at, at + size));
      assert.equal(d.stdout(), 'hello\n{"type":"done"}\n', `chunks of ${size}`);
      assert.equal(d.stderr(), 'warning: x\nbye\n', `chunks of ${size}`);
    }
  });

  it('writes payloads as views of the chunk received, not copies', () => {
    const d = demuxer();
    const chunk = frame(1, 'x'.repeat(1000));
    d.demuxer.push(chunk);
    assert.equal(d.out.length, 1);
    assert.equal(d.out[0]!.buffer, chunk.buffer);
    assert.equal(d.out[0]!.byteOffset, chunk.byteOffset + 8);
  });

  it('refuses a stream that is not multiplexed (a TTY stream), naming what it found', () => {
    const d = demuxer();
    assert.throws(() => d.demuxer.push(Buffer.from('plain text from a tty\n')), /not multiplexed: a frame of stream type 112/);
  });
});
