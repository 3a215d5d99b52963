import { Char } from './char-codes.js';

/**
 * A reader of InfluxDB line protocol as DataKit accepts it on /v1/write:
 *
 *     measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Integers end in `i`, unsigned integers in `u`, strings are double-quoted
 * (and may span lines), booleans are t/T/true/True/TRUE and f/F/false/False/FALSE,
 * anything else numeric is a float. Blank lines and lines starting with `#`
 * are skipped. Escapes: `\,` and `\ ` in measurements; `\,` `\=` `\ ` in tag
 * keys, tag values and field keys; `\"` in strings; `\\` everywhere. Any other
 * backslash is a literal backslash. DataKit's binary (`"..."b`) and array
 * (`[1i,2i]`) field values are refused: no output could store them.
 *
 * It builds no point: a body's series (measurement and tags) go to the
 * visitor once each, and each line's fields come as canonical text in a
 * LineFields reused from line to line, which the write path encodes
 * straight into the outputs' encodings (#31: building a point object per
 * line, then reading it again to encode it, was half the write API's time).
 */

/** How a field value is written; its text in LineFields is canonical for its kind. */
export type FieldKind = 'float' | 'integer' | 'boolean' | 'string';

/**
 * The fields of the line just read, in the order and with the values the
 * point model gives them (as a JavaScript object would hold them, which the
 * JSON write path and reports keep): a key written twice keeps its first
 * place and its last value, integer-like keys come first in ascending order.
 * Texts: a float as JavaScript writes the number (`1.50` → `1.5`), except
 * that -0 is `-0` (JavaScript writes `0`; the Prometheus encodings keep the sign), an
 * integer's decimal digits (`007i` → `7`), `true` or `false`, a string
 * unescaped.
 */
/** Fields a line may have before repeats are found by settling, not by comparing each key with the ones before. */
const MAX_SCANNED_FIELDS = 32;

export class LineFields {
  count = 0;
  readonly keys: string[] = [];
  readonly kinds: FieldKind[] = [];
  readonly texts: string[] = [];
  /** Set when a key could change the order (a repeat, an integer-like key): then #order() puts them as an object would. */
  #unusual = false;

  clear(): void {
    this.count = 0;
    this.#unusual = false;
  }

  push(key: string, kind: FieldKind, text: string): void {
    const n = this.count++;
    const first = key.charCodeAt(0);
    // Past a few dozen fields, looking for repeats costs more than settling through an object.
    if ((first >= Char.Zero && first <= Char.Nine) || key === '__proto__' || n >= MAX_SCANNED_FIELDS || (n > 0 && this.#repeats(key, n))) this.#unusual = true;
    this.keys[n] = key;
    this.kinds[n] = kind;
    this.texts[n] = text;
  }

  /** After the line's last field: the fields as an object keeps them (a plain object, as the point path used: `__proto__` is not kept). */
  settle(): void {
    if (!this.#unusual) return;
    const at: Record<string, number> = {};
    for (let i = 0; i < this.count; i++) at[this.keys[i]!] = i;
    const keys: string[] = [];
    const kinds: FieldKind[] = [];
    const texts: string[] = [];
    for (const key in at) {
      keys.push(key);
      kinds.push(this.kinds[at[key]!]!);
      texts.push(this.texts[at[key]!]!);
    }
    this.count = keys.length;
    for (let i = 0; i < keys.length; i++) {
      this.keys[i] = keys[i]!;
      this.kinds[i] = kinds[i]!;
      this.texts[i] = texts[i]!;
    }
  }

  #repeats(key: string, n: number): boolean {
    for (let i = 0; i < n; i++) if (this.keys[i] === key) return true;
    return false;
  }
}

export interface LineVisitor<S> {
  /** A series (measurement and tags) met for the first time in the body: what the visitor makes of it comes back with each of its points. */
  series(measurement: string, tags: Readonly<Record<string, string>>): S;
  /** A syntactically valid point that starts on `line` (1-based); `time`: integer digits in the request's precision, absent when the line has none. */
  point(line: number, series: S, fields: LineFields, time: string | undefined): void;
  /** A line that cannot be read; `message` names the column and what is wrong. Parsing resumes at the next line. */
  error(line: number, message: string): void;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** A Map, not an object: a value such as `constructor` must not be found. */
const BOOLEANS = new Map(
  ['t', 'T', 'true', 'True', 'TRUE', 'f', 'F', 'false', 'False', 'FALSE'].map((token) => [token, token.charAt(0).toLowerCase() === 't' ? 'true' : 'false']),
);
const INTEGER = /^-?\d+$/;
const FLOAT = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** Integer digits as BigInt would write them back, and within int64: no BigInt needed. */
const CANONICAL_INTEGER = /^(?:-?[1-9]\d{0,17}|0)$/;
/** A float JavaScript writes back as it is: no exponent, no leading or trailing zero, not -0, and (below) at most 15 digits and not below 1e-4. */
const PLAIN_FLOAT = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;

/** The float's text as JavaScript writes the number (what the point path stored), -0 as `-0`; undefined when it is not finite. */
function floatText(token: string): string | undefined {
  const digits = token.length - (token.charCodeAt(0) === Char.Minus ? 1 : 0) - (token.includes('.') ? 1 : 0);
  if (digits <= 15 && PLAIN_FLOAT.test(token) && token !== '-0' && !/^-?0\.0000/.test(token)) return token;
  const value = Number(token);
  if (!Number.isFinite(value)) return undefined;
  return Object.is(value, -0) ? '-0' : String(value);
}

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

/** Why a line cannot be read, at the column where the parser stopped. */
class SyntaxProblem extends Error {}

/** Cuts client text quoted in an error message to a readable size. */
const quote = (text: string): string => JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);

export function parseLineProtocol<S>(text: string, visitor: LineVisitor<S>): void {
  new LineParser(text, visitor).run();
}

class LineParser<S> {
  readonly #text: string;
  readonly #visitor: LineVisitor<S>;
  readonly #fields = new LineFields();
  #pos = 0;
  /** The physical line of #pos (strings may hold line breaks) and where it starts. */
  #line = 1;
  #lineStart = 0;
  /** What the visitor made of the series read so far, by their text up to the space before the fields. */
  readonly #series = new Map<string, S>();

  constructor(text: string, visitor: LineVisitor<S>) {
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
        try {
          this.#point();
        } catch (err) {
          if (!(err instanceof SyntaxProblem)) throw err;
          this.#visitor.error(this.#line, `column ${this.#pos - this.#lineStart + 1}: ${err.message}`);
          this.#skipToNextLine();
        }
      }
    }
  }

  /** Reads the line at #pos and hands it to the visitor (throws a SyntaxProblem, before the visitor sees it, when it cannot be read). */
  #point(): void {
    const line = this.#line;
    const series = this.#seriesOfLine();
    if (this.#peek() !== Char.Space) throw new SyntaxProblem(this.#atLineEnd() ? 'the point has no fields' : 'expected a space before the fields');
    this.#skipBlanks();

    const fields = this.#fields;
    fields.clear();
    for (;;) {
      if (this.#atLineEnd()) throw new SyntaxProblem('the point has no fields');
      const key = this.#name('key');
      if (key === '') throw new SyntaxProblem('a field key is missing');
      if (this.#peek() !== Char.Equals) throw new SyntaxProblem(`field ${quote(key)} has no value (fields are written key=value)`);
      this.#pos++;
      if (this.#peek() === Char.Quote) fields.push(key, 'string', this.#string(key));
      else this.#fieldValue(key);
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
    fields.settle();
    this.#visitor.point(line, series, fields, time);
  }

  /** The measurement and tags of the line at #pos: the same text read earlier in the body gives the same (shared) series. */
  #seriesOfLine(): S {
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

  #readSeries(): S {
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
    return this.#visitor.series(measurement, Object.freeze(tags));
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

  /** An unquoted field value, pushed to the line's fields with its canonical text. */
  #fieldValue(key: string): void {
    const start = this.#pos;
    const token = this.#token();
    if (token === '') throw new SyntaxProblem(`field ${quote(key)} has no value`);
    const last = token.charCodeAt(token.length - 1);
    if (last === 105 /* i */ || last === 117 /* u */) {
      const digits = token.slice(0, -1);
      if (CANONICAL_INTEGER.test(digits) && !(last === 117 && digits.charCodeAt(0) === Char.Minus)) {
        this.#fields.push(key, 'integer', digits);
        return;
      }
      if (INTEGER.test(digits)) {
        const value = BigInt(digits);
        if (last === 117 && value < 0n) throw this.#at(start, `field ${quote(key)}: unsigned integer ${token} is negative`);
        // Outputs store integers as int64 (JSON Lines numbers, line protocol `i`): a larger uint cannot be kept exactly.
        if (value > INT64_MAX || value < INT64_MIN)
          throw this.#at(start, `field ${quote(key)}: ${token} is outside the int64 range pythond stores integers in`);
        this.#fields.push(key, 'integer', value.toString());
        return;
      }
    }
    const boolean = BOOLEANS.get(token);
    if (boolean !== undefined) {
      this.#fields.push(key, 'boolean', boolean);
      return;
    }
    if (FLOAT.test(token)) {
      const value = floatText(token);
      if (value === undefined) throw this.#at(start, `field ${quote(key)}: ${token} is too large for a float`);
      this.#fields.push(key, 'float', value);
      return;
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
