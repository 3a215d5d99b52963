import { isAscii, isUtf8 } from 'node:buffer';
import type { WriteRejection, WriteResult, WriteTask } from '../src/points/tasks.js';
import { inflate } from './inflate.js';
import { JsonBodyError, parseJsonPoints } from './json-body.js';
import { ECHO_ENCODING, PointBatcher } from './point-batcher.js';
import { TagFiller } from './tag-filler.js';
import { transcodeLineProtocol } from './write-lines.js';

/**
 * Parses a `/v1/write/<category>` body (inflated first when compressed),
 * validates every point as collector points are validated, adds the global
 * tags the request asked for, and encodes them for the outputs. A body is
 * taken whole or not at all: one bad point rejects it, so a client can fix
 * and resend it without writing any point twice.
 */
export function parseWrite(task: WriteTask): WriteResult {
  let body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  if (task.compression) {
    const inflated = inflate(body, task.compression, task.maxBodySize);
    if ('rejected' in inflated) return inflated;
    body = inflated;
  }
  // Checked first, then decoded without checking, which is faster than a decoder that checks as it goes; ASCII (most bodies) is copied as it is.
  let text: string;
  if (isAscii(body)) text = body.toString('latin1');
  else if (isUtf8(body)) text = body.toString('utf8');
  else return reject('unreadable', `the body is not valid UTF-8 (first at line ${firstNonUtf8Line(body)})`);

  const encodings = task.echo ? [...new Set([...task.encodings, ECHO_ENCODING[task.echo]])] : task.encodings;
  const batcher = new PointBatcher(encodings);
  const tags = new TagFiller(task.tags);
  if (task.format === 'json') {
    let points: unknown[];
    try {
      points = parseJsonPoints(text);
    } catch (err) {
      if (err instanceof JsonBodyError) return reject('unreadable', err.message);
      throw err;
    }
    for (const [i, raw] of points.entries()) {
      const problem = batcher.add(task.category, raw, task.precision, task.receivedAtNs, tags);
      if (problem) batcher.reject(`point ${i + 1}: ${problem}`);
    }
  } else {
    transcodeLineProtocol(text, { category: task.category, precision: task.precision, receivedAtNs: task.receivedAtNs, tags, batcher });
  }

  const { points, invalid, errors } = batcher.counts;
  if (invalid > 0) {
    const more = invalid > errors.length ? `\n… and ${invalid - errors.length} more` : '';
    return reject('invalid', `${invalid} of ${points + invalid} points are invalid, so none was written:\n${errors.join('\n')}${more}`, invalid);
  }
  if (points === 0) return reject('empty', 'the body has no points (only blank lines or comments)');
  return batcher.finish(task.echo);
}

function reject(rejected: WriteRejection['rejected'], message: string, invalid = 0): WriteRejection {
  return { rejected, message, invalid };
}

/** Only runs for a body already known to be bad, so decoding line by line is cheap enough. */
function firstNonUtf8Line(body: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  for (let start = 0; start < body.length; line++) {
    let end = body.indexOf(10, start);
    if (end === -1) end = body.length;
    try {
      decoder.decode(body.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
  }
  return line;
}
