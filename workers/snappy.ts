import { writeVarint } from './varint.js';

/**
 * Snappy's block format (github.com/google/snappy, format_description.txt),
 * which Prometheus remote write requires: the uncompressed length as a
 * varint, then literals and back-references (copies) into what was already
 * decoded. Compression follows the reference encoder: 64 KiB fragments, a
 * hash table of 4-byte sequences, a skip that grows over incompressible data.
 */

/** Inputs are compressed in fragments of this size; copies never reach back further. */
const FRAGMENT_BYTES = 65_536;
const HASH_BITS = 14;
/** The last bytes of a fragment are emitted as a literal: a match needs 4 bytes to compare and the loop reads ahead. */
const INPUT_MARGIN = 15;

/** The most a block of `length` input bytes can take (the reference's MaxCompressedLength). */
function maxCompressedLength(length: number): number {
  return 32 + length + Math.floor(length / 6);
}

/** A block's uncompressed length and where its elements start. */
function readVarint(block: Uint8Array): { value: number; end: number } {
  let value = 0;
  for (let at = 0, shift = 1; at < 5 && at < block.length; at++, shift *= 128) {
    const byte = block[at]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return { value, end: at + 1 };
  }
  throw new Error('not a snappy block: its length varint is cut short or longer than 5 bytes');
}

const load32 = (bytes: Uint8Array, at: number): number => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
const hash = (word: number): number => Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS);

function emitLiteral(out: Uint8Array, at: number, input: Uint8Array, from: number, to: number): number {
  const n = to - from - 1;
  if (n < 60) out[at++] = n << 2;
  else if (n < 0x100) {
    out[at++] = 60 << 2;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 61 << 2;
    out[at++] = n & 0xff;
    out[at++] = n >>> 8;
  } else {
    // Fragments are at most 64 KiB, so a literal never needs the 3- and 4-byte lengths.
    throw new Error(`a snappy literal of ${n + 1} bytes is longer than a fragment`);
  }
  out.set(input.subarray(from, to), at);
  return at + (to - from);
}

/** A copy of `length` bytes from `offset` back; copy-1 (2 bytes) where it fits, else copy-2 (3 bytes, at most 64 long). */
function emitCopy(out: Uint8Array, at: number, offset: number, length: number): number {
  const copy2 = (len: number): void => {
    out[at++] = ((len - 1) << 2) | 2;
    out[at++] = offset & 0xff;
    out[at++] = offset >>> 8;
  };
  while (length >= 68) {
    copy2(64);
    length -= 64;
  }
  if (length > 64) {
    copy2(60);
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) copy2(length);
  else {
    out[at++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
    out[at++] = offset & 0xff;
  }
  return at;
}

/** Compresses input[start, end) (at most one fragment) into out at `at`; the table is this fragment's alone. */
function compressFragment(input: Uint8Array, start: number, end: number, out: Uint8Array, at: number, table: Int32Array): number {
  let nextEmit = start;
  if (end - start >= INPUT_MARGIN) {
    table.fill(-1);
    const ipLimit = end - INPUT_MARGIN;
    let ip = start + 1;
    search: for (;;) {
      // Look for a 4-byte match, stepping faster the longer none is found (incompressible data goes by quickly).
      let skip = 32;
      let candidate: number;
      for (;;) {
        const word = load32(input, ip);
        const h = hash(word);
        candidate = table[h]!;
        table[h] = ip;
        if (candidate >= start && load32(input, candidate) === word) break;
        ip += skip++ >>> 5;
        if (ip > ipLimit) break search;
      }
      at = emitLiteralIfAny(out, at, input, nextEmit, ip);
      // Emit copies for as long as the bytes right after one match start another.
      for (;;) {
        let matched = 4;
        while (ip + matched < end && input[candidate + matched] === input[ip + matched]) matched++;
        at = emitCopy(out, at, ip - candidate, matched);
        ip += matched;
        nextEmit = ip;
        if (ip >= ipLimit) break search;
        table[hash(load32(input, ip - 1))] = ip - 1;
        const h = hash(load32(input, ip));
        candidate = table[h]!;
        table[h] = ip;
        if (candidate < start || load32(input, candidate) !== load32(input, ip)) break;
      }
      ip++;
    }
  }
  return emitLiteralIfAny(out, at, input, nextEmit, end);
}

function emitLiteralIfAny(out: Uint8Array, at: number, input: Uint8Array, from: number, to: number): number {
  return to > from ? emitLiteral(out, at, input, from, to) : at;
}

/** `input` as one snappy block (not the framing format). */
export function snappyCompress(input: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(maxCompressedLength(input.length));
  let at = writeVarint(out, 0, input.length);
  const table = new Int32Array(1 << HASH_BITS);
  for (let start = 0; start < input.length; start += FRAGMENT_BYTES) {
    at = compressFragment(input, start, Math.min(start + FRAGMENT_BYTES, input.length), out, at, table);
  }
  return out.subarray(0, at);
}

/**
 * Several snappy blocks as one, which decompresses to their inputs one after
 * the other: the elements of each block stay as they are (a copy reaches back
 * only into its own block's output, and distances do not change), under one
 * length that is the sum. So blocks compressed apart are joined without
 * compressing again.
 */
export function joinSnappyBlocks(blocks: readonly Uint8Array[]): Uint8Array {
  if (blocks.length === 1) return blocks[0]!;
  const heads = blocks.map(readVarint);
  const length = heads.reduce((sum, head) => sum + head.value, 0);
  const body = blocks.reduce((sum, block, i) => sum + block.length - heads[i]!.end, 0);
  const out = new Uint8Array(10 + body);
  let at = writeVarint(out, 0, length);
  blocks.forEach((block, i) => {
    out.set(block.subarray(heads[i]!.end), at);
    at += block.length - heads[i]!.end;
  });
  return out.subarray(0, at);
}
