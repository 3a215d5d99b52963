/**
 * A JSON write body: `[{"measurement", "tags", "fields", "time"}, ...]`.
 * Every JSON number is a float, as in DataKit, except each point's `time`,
 * which is read digit for digit: JSON.parse would round a nanosecond
 * timestamp (19 digits, past 2^53) by up to 128 ns.
 */

/** Why a JSON body cannot be read; the message names the line and column. */
export class JsonBodyError extends Error {}

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const MINUS = 45;
const OPEN_BRACKET = 91;
const OPEN_BRACE = 123;
const CLOSE_BRACKET = 93;
const CLOSE_BRACE = 125;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isBlank = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

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
    if (c === QUOTE) {
      const start = i + 1;
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      key = text.slice(start, i);
      afterColon = false;
    } else if (c === COLON) {
      afterColon = true;
    } else if (afterColon && depth === 2 && key === 'time' && (isDigit(c) || c === MINUS)) {
      let end = i + 1;
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      const next = text.charCodeAt(end);
      const integer = next !== 46 /* . */ && next !== 101 /* e */ && next !== 69; /* E */
      if (integer && end - i - (c === MINUS ? 1 : 0) >= UNSAFE_DIGITS) {
        out += `${text.slice(copied, i)}"${text.slice(i, end)}"`;
        copied = end;
      }
      i = end - 1;
      afterColon = false;
    } else if (!isBlank(c)) {
      if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
      else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
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
