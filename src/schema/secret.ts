import { inspect } from 'node:util';

/** What every surface prints in place of a secret's value. */
export const REDACTED = '<secret>';

/**
 * A credential's value: what `secrets`, the credential keys (`token`,
 * `password`, `api_token`, git URLs) and `envs` entries holding a reference
 * are read into. It prints as `<secret>` however it is printed (a template
 * string, JSON, a log line's fields, util.inspect), so a value nobody meant
 * to show never shows; the one code path that needs it calls reveal().
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value, for the one place it is used (a request header, the host's environment): never for printing. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * JSON with secrets' values in it: only to compare two configs (a rotated
 * secret changes its input), never to print or to store.
 */
export function revealedJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, json: unknown) {
    const raw = this[key];
    return raw instanceof Secret ? raw.reveal() : json;
  });
}

/** The values of the secrets in `value` (a TOML value: string, list, table). */
export function secretsIn(value: unknown): string[] {
  if (value instanceof Secret) return [value.reveal()];
  if (Array.isArray(value)) return value.flatMap(secretsIn);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) return Object.values(value).flatMap(secretsIn);
  return [];
}

/** `value` with every secret replaced by its value: for a key that is no credential (a reference in a `url`, a tag). */
export function revealAll(value: unknown): unknown {
  if (value instanceof Secret) return value.reveal();
  if (Array.isArray(value)) return value.map(revealAll);
  if (typeof value === 'object' && value !== null && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, revealAll(item)]));
  return value;
}

/** `text` (an error message about a key) with each of `values` written as `<secret>`. */
export function redact(text: string, values: readonly string[]): string {
  let redacted = text;
  // Longest first, so that a secret inside another is not left half shown.
  for (const value of [...values].filter((v) => v !== '').sort((a, b) => b.length - a.length)) {
    redacted = redacted.replaceAll(JSON.stringify(value), REDACTED).replaceAll(value, REDACTED);
  }
  return redacted;
}
