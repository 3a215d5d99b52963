import toml from 'toml';

/** What the `toml` parser (a PEG parser) throws: where, what it expected, what it found; or only a message for its own checks. */
interface ParserError {
  message: string;
  location?: { start: { line: number; column: number } };
  line?: number;
  column?: number;
  expected?: { type: string; text?: string }[] | null;
  found?: string | null;
}

/** A config file that is not TOML: `message` is `config FILE:LINE:COL: <what is wrong>`, then the line with a caret under the place. */
export class TomlSyntaxError extends Error {
  constructor(
    message: string,
    /** The line the parser stopped at, when it says. */
    readonly line?: number,
  ) {
    super(message);
  }
}

/** Parses `text` (the file `source`); a syntax error is said in words, at its line and column (see TomlSyntaxError). */
export function parseToml(text: string, source: string): unknown {
  try {
    return toml.parse(text);
  } catch (err) {
    const e = err as ParserError;
    const at = e.location?.start ?? (e.line ? { line: e.line, column: e.column ?? 1 } : undefined);
    if (!at) throw new TomlSyntaxError(`config ${source}: not valid TOML: ${e.message}`);
    const line = text.split(/\r?\n/)[at.line - 1] ?? '';
    const caret = `${line.slice(0, at.column - 1).replace(/[^\t]/g, ' ')}^`;
    const number = String(at.line);
    throw new TomlSyntaxError(
      `config ${source}:${at.line}:${at.column}: ${explain(e, line, at.column)}\n  ${number} | ${line}\n  ${' '.repeat(number.length)} | ${caret}`,
      at.line,
    );
  }
}

/** What the parser stopped at, in words: a word or value as written (in quotes unless it has its own), the end of the line, the end of the file. */
function foundWord(found: string | null | undefined, rest: string): string {
  if (found === null || found === undefined) return 'the end of the file';
  if (found === '\n' || found === '\r') return 'the end of the line';
  const token = /^("[^"]*"|'[^']*'|[^\s,\]}=#]+)/.exec(rest)?.[0] ?? found;
  return /^["']/.test(token) ? token : `"${token}"`;
}

/** Why the parser stopped, as a person would say it, from what it expected there and what it found. */
function explain(e: ParserError, line: string, column: number): string {
  const redefined = /^Cannot redefine existing key '(.*)'\.$/.exec(e.message);
  if (redefined && /^\s*\[/.test(line))
    return `[${redefined[1]}] is written a second time: a table is written once (a list of blocks is written [[${redefined[1]}]], each block under its own)`;
  if (redefined) return `${redefined[1]} is set a second time: a key is set once in its table`;
  if (e.message === 'Invalid escape sequence')
    return 'a backslash in a "string" starts an escape TOML does not know: write \\\\ for a backslash, or use single quotes (\'C:\\path\'), which have no escapes';
  const literals = new Set((e.expected ?? []).filter((expected) => expected.type === 'literal').map((expected) => expected.text));
  const rest = line.slice(column - 1);
  const found = foundWord(e.found, rest);
  const endOfLine = e.found === '\n' || e.found === '\r' || e.found === null;
  const header = /^\s*\[/.test(line);

  if (literals.has('"""') && !literals.has('true') && e.found === null) return 'a """multi-line string""" is not closed before the end of the file';
  if (literals.has("'''") && !literals.has('true') && e.found === null) return "a '''multi-line string''' is not closed before the end of the file";
  if (literals.has('true') && literals.has('[')) {
    const key = /^\s*(.*?)\s*=\s*$/.exec(line.slice(0, column - 1))?.[1];
    if (endOfLine) return `${key ?? 'the key'} = has no value: write one after the =, such as "text", 10, true or ["a", "b"]`;
    const word = found.replace(/^"|"$/g, '');
    if (/^(true|false|yes|no|on|off)$/i.test(word)) return `${word} is not a TOML value: write true or false, in lower case`;
    if (/^[A-Za-z]/.test(word)) return `${word} is not a TOML value: text is written in quotes ("${word}")`;
    return `expected a value after =, found ${found}: such as "text", 10, true or ["a", "b"]`;
  }
  if (endOfLine && (literals.has('\\') || literals.has('"')))
    return 'this "string" is not closed on its line: end it with " (a string over several lines is written """...""")';
  if (endOfLine && literals.has("'")) return "this 'string' is not closed on its line: end it with ' (a string over several lines is written '''...''')";
  if (literals.has('=')) {
    const key = line.slice(0, column - 1).trim();
    return `expected = after ${key ? `the key ${key}` : 'the key'}, found ${found}: a setting is written key = value, and a key with a space in it in quotes ("my key" = 1)`;
  }
  if (header && literals.has(']')) {
    const closing = /^\s*\[\[/.test(line) ? ']]' : ']';
    return `this table header is not closed: end it with ${closing}`;
  }
  if (literals.has(',') && literals.has(']'))
    return `expected , or ] in an array, found ${found}: its items are separated by commas, and it ends with ] (on this line or a later one)`;
  if (literals.has(',') && literals.has('}')) return `expected , or } in an inline table, found ${found}: { key = value, key = value } on one line`;
  if (literals.has('\n') || literals.has('#')) {
    if (header) return `a [table] header stands alone on its line: write ${found} on the next line`;
    return `${found} after the value: one key = value per line (a comment starts with #)`;
  }
  return `${found} was not expected here`;
}
