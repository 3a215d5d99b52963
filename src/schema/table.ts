import { Secret } from './secret.js';

/**
 * Whether `value` is a table: a TOML table or a JSON object, which both
 * parse to a plain object. Not null, a list, a TOML date (a Date object) or a Secret.
 */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Secret);
}
