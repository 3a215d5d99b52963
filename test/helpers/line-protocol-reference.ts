import type { FieldValue } from '../../src/points/point.js';
import { Char } from '../../workers/char-codes.js';

// The write API's line-protocol parser as it was before #31 built a point per line: kept as the
// reference that test/workers/line-transcoder.test.ts holds the one-pass path (workers/line-protocol.ts) to.

/**
 * A parser for InfluxDB line protocol as DataKit accepts it on /v1/write:
 *
 *     measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Integers end in `i`, unsigned integers in `u`, strings are double-quoted
 * (and may span lines), booleans are t/T/true/True/TRUE and f/F/false/False/FALSE,
 * anything else numeric is a float. Blank lines and lines starting with `#`
 * are skipped. Escapes: `\,` and `\ ` in measurements; `\,` `\=` `\ ` in tag
 * keys, tag values and field keys; `\"` in strings; `\\` everywhere. Any other
 * backslash is a literal backslash.
 *
 * Points come out in the shape `validatePoint` takes (time still in the
 * request's precision, as digits), so both write formats share one
 * validation. DataKit's binary (`"..."b`) and array (`[1i,2i]`) field
 * values are refused: no output could store them.
 */

export interface LinePoint {
  measurement: string;
  /** Frozen, and shared by the points of the body that have the same measurement and tags (a series). */
  tags: Readonly<Record<string, string>>;
  fields: Record<string, FieldValue>;
  /** Integer digits in the request's precision; absent when the line has no timestamp. */
  time?: string;
}

export interface LineVisitor {
  /** A syntactically valid point that starts on `line` (1-based). */
  point(line: number, point: LinePoint): void;
  /** A line that cannot be read; `message` names the column and what is wrong. Parsing resumes at the next line. */
  error(line: number, message: string): void;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const BOOLEANS: Record<string, boolean> = {
  t: true,
  T: true,
  true: true,
  True: true,
  TRUE: true,
  f: false,
  F: false,
  false: false,
  False: false,
  FALSE: false,
};
const INTEGER = /^-?\d+$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * The three kinds of names: a measurement ends at a comma or space and
 * escapes those; tag and field keys also end at `=`; tag values end at a
 * comma or space, and escape `=` as keys do.
 */
type NameKind = 'measurement' | 'key' | 'tagValue';
const ESCAPES: Record<NameKind, RegExp> = { measurement: /\\([, \\])/g, key: /\\([,= \\])/g, tagValue: /\\([,= \\])/g };

/**
 * Distinct series (measurement and tags, as written) a body's parse keeps:
 * a body repeats a few series line after line, and each is read once.
 * Beyond this (a body of high-cardinality tags) the others are read each time.
 */
const MAX_SERIES = 10_000;

interface Series {
  measurement: string;
  tags: Readonly<Record<string, string>>;
}

/** Why a line cannot be read, at the column where the parser stopped. */
class SyntaxProblem extends Error {}

/** Cuts client text quoted in an error message to a readable size. */
const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

export function parseLineProtocol(text: string, visitor: LineVisitor): void {
  new LineParser(text, visitor).run();
}

class LineParser {
  readonly #text: string;
  readonly #visitor: LineVisitor;
  #pos = 0;
  /** The physical line of #pos (strings may hold line breaks) and where it starts. */
  #line = 1;
  #lineStart = 0;
  /** The series read so far, by their text up to the space before the fields. */
  readonly #series = new Map<string, Series>();

  constructor(text: string, visitor: LineVisitor) {
    this.#text = text;
    this.#visitor = visitor;
  }

  run(): void {
    const text = this.#text;
    while (this.#pos < text.length) {
      this.#skipBlanks();
      const c = text.charCodeAt(this.#pos);
      if (c === Char.Hash) this.#skipToNextLine();
      else if (this.#atLineEnd()) this.#endLine();
      else {
        const line = this.#line;
        try {
          this.#visitor.point(line, this.#point());
        } catch (err) {
          if (!(err instanceof SyntaxProblem)) throw err;
          this.#visitor.error(this.#line, `column ${this.#pos - this.#lineStart + 1}: ${err.message}`);
          this.#skipToNextLine();
        }
      }
    }
  }

  #point(): LinePoint {
    const { measurement, tags } = this.#seriesOfLine();
    if (this.#peek() !== Char.Space) throw new SyntaxProblem(this.#atLineEnd() ? 'the point has no fields' : 'expected a space before the fields');
    this.#skipBlanks();

    const fields: Record<string, FieldValue> = {};
    for (;;) {
      if (this.#atLineEnd()) throw new SyntaxProblem('the point has no fields');
      const key = this.#name('key');
      if (key === '') throw new SyntaxProblem('a field key is missing');
      if (this.#peek() !== Char.Equals) throw new SyntaxProblem(`field ${quote(key)} has no value (fields are written key=value)`);
      this.#pos++;
      fields[key] = this.#fieldValue(key);
      if (this.#peek() !== Char.Comma) break;
      this.#pos++;
    }

    let time: string | undefined;
    if (this.#peek() === Char.Space || this.#peek() === Char.Tab) {
      this.#skipBlanks();
      if (!this.#atLineEnd()) {
        const start = this.#pos;
        time = this.#token();
        if (!INTEGER.test(time)) throw this.#at(start, `the timestamp ${quote(time)} is not an integer`);
        this.#skipBlanks();
      }
    }
    if (!this.#atLineEnd()) {
      const start = this.#pos;
      throw this.#at(start, `unexpected text after the ${time === undefined ? 'fields' : 'timestamp'}: ${quote(this.#token())}`);
    }
    this.#endLine();
    return time === undefined ? { measurement, tags, fields } : { measurement, tags, fields, time };
  }

  /** The measurement and tags of the line at #pos: the same text read earlier in the body gives the same (shared) series. */
  #seriesOfLine(): Series {
    const text = this.#text;
    const start = this.#pos;
    // Their end: the first space or line break that is not escaped.
    let end = start;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === Char.Backslash) end++;
      else if (c === Char.Space || c === Char.Lf || c === Char.Cr) break;
    }
    const key = text.slice(start, Math.min(end, text.length));
    const known = this.#series.get(key);
    if (known) {
      this.#pos = start + key.length;
      return known;
    }
    const series = this.#readSeries();
    if (this.#pos === start + key.length && this.#series.size < MAX_SERIES) this.#series.set(key, series);
    return series;
  }

  #readSeries(): Series {
    const measurement = this.#name('measurement');
    if (measurement === '') throw new SyntaxProblem('the measurement name is missing');
    const tags: Record<string, string> = {};
    while (this.#peek() === Char.Comma) {
      this.#pos++;
      const key = this.#name('key');
      if (key === '') throw new SyntaxProblem(`a tag key is missing after measurement ${quote(measurement)}`);
      if (this.#peek() !== Char.Equals) throw new SyntaxProblem(`tag ${quote(key)} has no value (tags are written key=value)`);
      this.#pos++;
      const value = this.#name('tagValue');
      if (value === '') throw new SyntaxProblem(`tag ${quote(key)} has an empty value`);
      tags[key] = value;
    }
    return { measurement, tags: Object.freeze(tags) };
  }

  /** A measurement, key or tag value, up to its unescaped end or the end of the line. */
  #name(kind: NameKind): string {
    const text = this.#text;
    const start = this.#pos;
    let escaped = false;
    for (; this.#pos < text.length; this.#pos++) {
      const c = text.charCodeAt(this.#pos);
      if (c === Char.Backslash && this.#pos + 1 < text.length) {
        const next = text.charCodeAt(this.#pos + 1);
        if (next === Char.Comma || next === Char.Space || next === Char.Backslash || (next === Char.Equals && kind !== 'measurement')) {
          escaped = true;
          this.#pos++;
        }
        continue;
      }
      if (c === Char.Comma || c === Char.Space || c === Char.Lf || c === Char.Cr || (c === Char.Equals && kind === 'key')) break;
    }
    const raw = text.slice(start, this.#pos);
    return escaped ? raw.replace(ESCAPES[kind], '$1') : raw;
  }

  #fieldValue(key: string): FieldValue {
    if (this.#peek() === Char.Quote) return this.#string(key);
    const start = this.#pos;
    const token = this.#token();
    if (token === '') throw new SyntaxProblem(`field ${quote(key)} has no value`);
    const last = token.charCodeAt(token.length - 1);
    if (last === 105 /* i */ || last === 117 /* u */) {
      const digits = token.slice(0, -1);
      if (INTEGER.test(digits)) {
        const value = BigInt(digits);
        if (last === 117 && value < 0n) throw this.#at(start, `field ${quote(key)}: unsigned integer ${token} is negative`);
        // Outputs store integers as int64 (JSON Lines numbers, line protocol `i`): a larger uint cannot be kept exactly.
        if (value > INT64_MAX || value < INT64_MIN)
          throw this.#at(start, `field ${quote(key)}: ${token} is outside the int64 range pythond stores integers in`);
        return value;
      }
    }
    const boolean = BOOLEANS[token];
    if (boolean !== undefined) return boolean;
    if (FLOAT.test(token)) {
      const value = Number(token);
      if (!Number.isFinite(value)) throw this.#at(start, `field ${quote(key)}: ${token} is too large for a float`);
      return value;
    }
    if (token.charCodeAt(0) === Char.OpenBracket) throw this.#at(start, `field ${quote(key)}: array values are not supported`);
    throw this.#at(
      start,
      `field ${quote(key)} has the invalid value ${quote(token)} (strings are double-quoted, integers end in i, unsigned integers in u, booleans are t or f)`,
    );
  }

  /** A double-quoted string; it may hold line breaks, which count as lines for messages. */
  #string(key: string): string {
    const text = this.#text;
    const opened = { pos: this.#pos, line: this.#line, lineStart: this.#lineStart };
    const start = ++this.#pos;
    let escaped = false;
    for (; this.#pos < text.length; this.#pos++) {
      const c = text.charCodeAt(this.#pos);
      if (c === Char.Backslash) {
        const next = text.charCodeAt(this.#pos + 1);
        if (next === Char.Quote || next === Char.Backslash) {
          escaped = true;
          this.#pos++;
        }
      } else if (c === Char.Lf) {
        this.#line++;
        this.#lineStart = this.#pos + 1;
      } else if (c === Char.Quote) {
        const raw = text.slice(start, this.#pos++);
        if (this.#peek() === 98 /* b */) throw new SyntaxProblem(`field ${quote(key)}: binary values ("..."b) are not supported`);
        return escaped ? raw.replace(/\\(["\\])/g, '$1') : raw;
      }
    }
    // Point at the opening quote: that line is the one to fix.
    this.#pos = opened.pos;
    this.#line = opened.line;
    this.#lineStart = opened.lineStart;
    throw new SyntaxProblem(`the string value of field ${quote(key)} has no closing quote`);
  }

  /** Up to the next comma, blank or line end. */
  #token(): string {
    const text = this.#text;
    const start = this.#pos;
    for (; this.#pos < text.length; this.#pos++) {
      const c = text.charCodeAt(this.#pos);
      if (c === Char.Comma || c === Char.Space || c === Char.Tab || c === Char.Lf || c === Char.Cr) break;
    }
    return text.slice(start, this.#pos);
  }

  /** A problem about the token that started at `start`: the column points at it, not past it. */
  #at(start: number, message: string): SyntaxProblem {
    this.#pos = start;
    return new SyntaxProblem(message);
  }

  #peek(): number {
    return this.#text.charCodeAt(this.#pos);
  }

  #skipBlanks(): void {
    while (this.#peek() === Char.Space || this.#peek() === Char.Tab) this.#pos++;
  }

  #atLineEnd(): boolean {
    const c = this.#peek();
    return this.#pos >= this.#text.length || c === Char.Lf || (c === Char.Cr && this.#text.charCodeAt(this.#pos + 1) === Char.Lf);
  }

  /** Past the line break at #pos (Char.Lf or CRLF), or at the end of the text. */
  #endLine(): void {
    if (this.#pos >= this.#text.length) return;
    this.#pos += this.#peek() === Char.Cr ? 2 : 1;
    this.#line++;
    this.#lineStart = this.#pos;
  }

  #skipToNextLine(): void {
    const next = this.#text.indexOf('\n', this.#pos);
    this.#pos = next === -1 ? this.#text.length : next;
    this.#endLine();
  }
}
