import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { formatBytes, parseDuration, parseSize } from './units.js';
import { isTable } from './table.js';

/**
 * Small typed readers for config values. A table schema is a record of
 * fields; `readTable` rejects unknown keys, applies defaults in one place and
 * returns a value whose type is derived from the schema.
 */

/** Thrown by a reader: the message completes "<key path> ...". */
export class FieldError extends Error {}

export interface Field<T> {
  read(value: unknown): T;
  /** Used when the key is absent; a field without one is required. */
  fallback?: () => T;
}

export type Schema = Record<string, Field<unknown>>;
export type TableOf<S extends Schema> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface Issue {
  path: string;
  message: string;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'object') return value instanceof Date ? 'a date' : 'a table';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function field<T>(read: (value: unknown) => T): Field<T> {
  return { read };
}

export function withDefault<T>(inner: Field<T>, fallback: T | (() => T)): Field<T> {
  return { read: inner.read, fallback: typeof fallback === 'function' ? (fallback as () => T) : () => fallback };
}

export function optional<T>(inner: Field<T>): Field<T | undefined> {
  return { read: inner.read, fallback: () => undefined };
}

export const string = (expected = 'a string'): Field<string> =>
  field((value) => {
    if (typeof value !== 'string') throw new FieldError(`must be ${expected}, got ${describe(value)}`);
    return value;
  });

export const nonEmptyString = (expected = 'a non-empty string'): Field<string> =>
  field((value) => {
    if (typeof value !== 'string' || value.trim() === '') throw new FieldError(`must be ${expected}, got ${describe(value)}`);
    return value.trim();
  });

export const boolean = (): Field<boolean> =>
  field((value) => {
    if (typeof value !== 'boolean') throw new FieldError(`must be true or false, got ${describe(value)}`);
    return value;
  });

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Field<number> =>
  field((value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new FieldError(`must be an integer ${range}, got ${describe(value)}`);
    }
    return value;
  });

export const positiveNumber = (): Field<number> =>
  field((value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new FieldError(`must be a number > 0, got ${describe(value)}`);
    }
    return value;
  });

export const oneOf = <const T extends string>(choices: readonly T[]): Field<T> =>
  field((value) => {
    if (typeof value !== 'string' || !choices.includes(value as T)) {
      throw new FieldError(`must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  });

/** Milliseconds, from `"10s"` / `"500ms"` / `"1m30s"` or a number of seconds. */
export const duration = (minMs = 0): Field<number> =>
  field((value) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < minMs) {
      throw new FieldError(`must be a duration such as "10s", "500ms" or "1m30s"${minMs ? ` of at least ${minMs} ms` : ''}, got ${describe(value)}`);
    }
    return ms;
  });

/** Bytes, from `"128m"` / `"32MiB"` / `"1g"` or a number of bytes. */
export const size = (minBytes = 1): Field<number> =>
  field((value) => {
    const bytes = parseSize(value);
    if (bytes === undefined || bytes < minBytes) {
      throw new FieldError(`must be a size such as "64k", "128m" or "1g" of at least ${formatBytes(minBytes)}, got ${describe(value)}`);
    }
    return bytes;
  });

export const stringList = (options: { nonEmpty: boolean; expected: string; item?: (text: string) => string | undefined }): Field<string[]> =>
  field((value) => {
    const bad = (): never => {
      throw new FieldError(`must be ${options.expected}, got ${describe(value)}`);
    };
    if (!Array.isArray(value)) return bad();
    if (options.nonEmpty && value.length === 0) return bad();
    return value.map((item, i) => {
      if (typeof item !== 'string' || item.trim() === '') return bad();
      const problem = options.item?.(item);
      if (problem) throw new FieldError(`[${i}] ${problem}`);
      return item;
    });
  });

export const stringMap = (): Field<Record<string, string>> =>
  field((value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
      throw new FieldError(`must be a table of strings, got ${describe(value)}`);
    }
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') throw new FieldError(`.${key} must be a string, got ${describe(item)}`);
      result[key] = item;
    }
    return result;
  });

/** The name of `known` nearest to `key` (at most two edits away), for "did you mean" hints. */
export function closest(key: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const best = known.map((name) => ({ name, d: distance(key, name) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? best.name : undefined;
}

/** Reads one TOML table against its schema, collecting every problem in `issues`. */
export function readTable<S extends Schema>(raw: unknown, schema: S, path: string, issues: Issue[]): TableOf<S> {
  const table: Record<string, unknown> = isTable(raw) ? raw : {};
  if (raw !== undefined && !isTable(raw)) issues.push({ path, message: `must be a table, got ${describe(raw)}` });

  const known = Object.keys(schema);
  for (const key of Object.keys(table)) {
    if (!(key in schema)) {
      const hint = closest(key, known);
      issues.push({ path: `${path}.${key}`, message: `is not a known key${hint ? ` (did you mean "${hint}"?)` : ''}; known keys: ${known.join(', ')}` });
    }
  }

  const result: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const keyPath = `${path}.${key}`;
    if (key in table || spec.fallback) result[key] = readField(key in table ? table[key] : undefined, spec, keyPath, issues);
    else issues.push({ path: keyPath, message: 'is required' });
  }
  return result as TableOf<S>;
}

/** Reads the value at `keyPath` (its fallback when absent); a problem goes to `issues`, and the answer is then undefined. */
export function readField<T>(value: unknown, spec: Field<T>, keyPath: string, issues: Issue[]): T | undefined {
  try {
    return value === undefined && spec.fallback ? spec.fallback() : spec.read(value);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    const message = err.message;
    // "[2] ..." and ".key ..." continue the path; anything else describes the key itself.
    const nested = /^(\[\d+\]|\.[^\s]+) (.*)$/s.exec(message);
    issues.push(nested ? { path: keyPath + nested[1], message: nested[2]! } : { path: keyPath, message });
    return undefined;
  }
}

/** A file system path; relative paths are taken from `baseDir` (the config file's folder). */
export const filePath = (baseDir: string): Field<string> => field((value) => path.resolve(baseDir, nonEmptyString('a path').read(value)));

/** A file that must exist and be readable now, so a typo shows at load rather than at first use. */
export const readableFile = (baseDir: string): Field<string> =>
  field((value) => {
    const file = filePath(baseDir).read(value);
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new FieldError(`must be a readable file, but ${file} is not (${(err as NodeJS.ErrnoException).code})`);
    }
    return file;
  });

/** A folder that must exist now, so a typo shows at load rather than at first use. */
export const existingFolder = (baseDir: string): Field<string> =>
  field((value) => {
    const folder = filePath(baseDir).read(value);
    let stats: Stats;
    try {
      stats = statSync(folder);
    } catch (err) {
      throw new FieldError(`must be an existing folder, but ${folder} is not there (${(err as NodeJS.ErrnoException).code})`);
    }
    if (!stats.isDirectory()) throw new FieldError(`must be a folder, but ${folder} is not one`);
    return folder;
  });

/**
 * The base URL of an HTTP server, http:// or https://. A URL ends up in log
 * lines and error messages, so it carries no credentials; `credentials` says
 * where they go instead.
 */
export const httpUrl = (example: string, credentials = "use the output's credential keys"): Field<string> =>
  field((value) => {
    const href = endpointUrl(example, credentials).read(value);
    const url = new URL(href);
    if (url.search || url.hash)
      throw new FieldError(`must be the server's base URL, without ?query or #fragment, got ${JSON.stringify((value as string).trim())}`);
    return href;
  });

/** The URL of one HTTP endpoint, which may carry a ?query (VictoriaMetrics' ?extra_label=...); no credentials, as for httpUrl. */
export const endpointUrl = (example: string, credentials = "use the output's credential keys"): Field<string> =>
  field((value) => {
    const expected = `an http:// or https:// URL such as "${example}"`;
    const text = nonEmptyString(expected).read(value);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new FieldError(`must be ${expected}, got ${JSON.stringify(text)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FieldError(`must be ${expected}, got ${JSON.stringify(text)}`);
    if (url.username || url.password) throw new FieldError(`must not carry a user name or password (URLs show up in logs); ${credentials}`);
    if (url.hash) throw new FieldError(`must not have a #fragment, got ${JSON.stringify(text)}`);
    return url.href;
  });
