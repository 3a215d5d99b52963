/**
 * Splits a byte stream into lines without decoding them, holding at most
 * `maxLine` bytes of one line. A longer line is not kept: `onOverflow` gets
 * its first bytes (enough to tell what it was) and the rest is skipped up to
 * the next newline, so a flood costs a scan, never memory.
 */
export class LineSplitter {
  readonly #maxLine: number;
  readonly #onLine: (line: Buffer) => void;
  readonly #onOverflow: (head: Buffer) => void;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #skipping = false;

  constructor(options: { maxLine: number; onLine: (line: Buffer) => void; onOverflow: (head: Buffer) => void }) {
    this.#maxLine = options.maxLine;
    this.#onLine = options.onLine;
    this.#onOverflow = options.onOverflow;
  }

  /** `chunk` must not change afterwards (a stream's chunks never do): a line not ended yet holds views of it. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!this.#skipping) this.#append(chunk.subarray(start, end));
      if (newline === -1) return;
      if (this.#skipping) this.#skipping = false;
      else this.#emit();
      start = newline + 1;
    }
  }

  #append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#partBytes + piece.length > this.#maxLine) {
      const head = Buffer.concat([...this.#parts, piece]).subarray(0, 256);
      this.#parts = [];
      this.#partBytes = 0;
      this.#skipping = true;
      this.#onOverflow(Buffer.from(head));
      return;
    }
    // A view, not a copy: stream chunks are never reused, and the line is copied once, whole, when it ends.
    this.#parts.push(piece);
    this.#partBytes += piece.length;
  }

  #emit(): void {
    // Copied into a buffer of its own, so that it can be moved to a worker and holds no chunk it came in.
    const line = Buffer.concat(this.#parts, this.#partBytes);
    this.#parts = [];
    this.#partBytes = 0;
    if (line.length > 0) this.#onLine(line);
  }
}
