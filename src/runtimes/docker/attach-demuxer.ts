import type { Writable } from 'node:stream';

/** Docker's frame header on an attach stream without a TTY: stream type, 3 zero bytes, big-endian payload length. */
const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

/**
 * Splits an attach stream (no TTY) into the container's stdout and stderr.
 * Payloads are written as views of the chunks received, never copied: a
 * collector's big report passes through here megabytes at a time, and
 * docker-modem's demuxStream copies what is left of a chunk at every frame.
 */
export class AttachDemuxer {
  readonly #stdout: Writable;
  readonly #stderr: Writable;
  /** A header cut across chunks, gathered until whole. */
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerBytes = 0;
  /** Where the current frame's payload goes, and how much of it is still to come. */
  #target: Writable | undefined;
  #remaining = 0;

  constructor(stdout: Writable, stderr: Writable) {
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** Takes the next chunk of the attach stream; throws when it is not a multiplexed stream. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#target) {
        const take = Math.min(this.#remaining, chunk.length - at);
        this.#target.write(chunk.subarray(at, at + take));
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#target = undefined;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#headerBytes, chunk.length - at);
      chunk.copy(this.#header, this.#headerBytes, at, at + take);
      this.#headerBytes += take;
      at += take;
      if (this.#headerBytes < HEADER_BYTES) return;
      this.#headerBytes = 0;
      const type = this.#header[0];
      if (type !== STDOUT && type !== STDERR) throw new Error(`the attach stream is not multiplexed: a frame of stream type ${type}`);
      this.#remaining = this.#header.readUInt32BE(4);
      if (this.#remaining > 0) this.#target = type === STDOUT ? this.#stdout : this.#stderr;
    }
  }
}
