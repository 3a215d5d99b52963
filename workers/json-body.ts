import { Char } from './char-codes.js';

/**
 * A JSON write body: `[{"measurement", "tags", "fields", "time"}, ...]`.
 * Every JSON number is a float, as in DataKit, except each point's `time`,
 * which is read digit for digit: JSON.parse would round a nanosecond
 * timestamp (19 digits, past 2^53) by up to 128 ns.
 */

/** Why a JSON body cannot be read; the message names the line and column. */
export class JsonBodyError extends Error {}

const isDigit = (c: number): boolean => c >= Char.Zero && c <= Char.Nine;
const isBlank = (c: number): boolean => c === Char.Space || c === Char.Tab || c === Char.Lf || c === Char.Cr;

/** Integers with this many digits may not survive a double. */
const UNSAFE_DIGITS = 16;

/** Parses the body and returns its list of (not yet validated) points. */
export function parseJsonPoints(text: string): unknown[] {
  let body: unknown;
  try {
    body = JSON.parse(quoteLongPointTimes(text));
  } catch {
    throw new JsonBodyError(`the body is not valid JSON: ${syntaxError(text)}`);
  }
  if (!Array.isArray(body)) {
    throw new JsonBodyError(`a JSON body must be a list of points such as [{"measurement":"m","fields":{"f":1}}], got ${body === null ? 'null' : typeof body}`);
  }
  return body;
}

/**
 * Wraps in quotes the integer `time` of each point (the key of an object
 * directly in the top-level list) when it is too long for a double; the
 * point validator reads digit strings exactly. Nothing else changes.
 */
export function quoteLongPointTimes(text: string): string {
  if (!new RegExp(`\\d{${UNSAFE_DIGITS}}`).test(text)) return text;
  let out = '';
  let copied = 0;
  let depth = 0;
  let key = '';
  let afterColon = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === Char.Quote) {
      const start = i + 1;
      for (i++; i < text.length && text.charCodeAt(i) !== Char.Quote; i++) if (text.charCodeAt(i) === Char.Backslash) i++;
      key = text.slice(start, i);
      afterColon = false;
    } else if (c === Char.Colon) {
      afterColon = true;
    } else if (afterColon && depth === 2 && key === 'time' && (isDigit(c) || c === Char.Minus)) {
      let end = i + 1;
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      const next = text.charCodeAt(end);
      const integer = next !== Char.Dot && next !== 101 /* e */ && next !== 69; /* E */
      if (integer && end - i - (c === Char.Minus ? 1 : 0) >= UNSAFE_DIGITS) {
        out += `${text.slice(copied, i)}"${text.slice(i, end)}"`;
        copied = end;
      }
      i = end - 1;
      afterColon = false;
    } else if (!isBlank(c)) {
      if (c === Char.OpenBracket || c === Char.OpenBrace) depth++;
      else if (c === Char.CloseBracket || c === Char.CloseBrace) depth--;
      afterColon = false;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * JSON.parse's complaint about the original text (positions in the quoted
 * copy would be off), with "at position N" turned into a line and column:
 * people fix files by line.
 */
function syntaxError(text: string): string {
  let message = 'unreadable';
  try {
    JSON.parse(text);
  } catch (err) {
    message = (err as Error).message;
  }
  const match = /at position (\d+)/.exec(message);
  if (!match) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${message.replace(/ in JSON at position \d+.*$/, '')}`;
}
