import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Issue } from '../schema/fields.js';
import { Secret } from '../schema/secret.js';

/**
 * References to values kept outside the config: `${env:NAME}` (an
 * environment variable of the runner) and `${file:PATH}` (a file's content,
 * one trailing newline dropped; PATH relative to the file that names it),
 * whole or inside a longer string; `$${` writes a literal `${`. They are
 * resolved once, as a file is read, before any key is: a string that held a
 * reference becomes a Secret, which only credential keys keep as one (see
 * Field.takesSecrets). Nothing here ever puts a value in a message.
 */

const TOKEN = /\$\$\{|\$\{([^}]*)\}?/g;
const REFERENCE = /^(env|file):(.+)$/s;
/** An environment variable name: letters, digits and _, not starting with a digit. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What resolving one file's references needs, and where it keeps what it found. */
export interface ReferenceContext {
  /** The folder of the file being read: `${file:PATH}` is relative to it. */
  baseDir: string;
  /** Every file a `${file:...}` read, by absolute path: watched, so that a rotated secret reloads. */
  files: Set<string>;
  /** Where a missing variable, an unreadable file or a malformed reference goes, naming its key. */
  issues: Issue[];
}

/** `raw` (a parsed TOML document) with every reference resolved; `prefix` is the key path of `raw`. */
export function resolveReferences(raw: unknown, context: ReferenceContext, prefix = ''): unknown {
  if (typeof raw === 'string') return raw.includes('${') ? resolveString(raw, context, prefix) : raw;
  if (Array.isArray(raw)) return raw.map((item, i) => resolveReferences(item, context, `${prefix}[${i}]`));
  if (typeof raw === 'object' && raw !== null && !(raw instanceof Date))
    return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, resolveReferences(value, context, prefix ? `${prefix}.${key}` : key)]));
  return raw;
}

function resolveString(text: string, context: ReferenceContext, keyPath: string): string | Secret {
  let referenced = false;
  let failed = false;
  const resolved = text.replace(TOKEN, (token, inner: string | undefined) => {
    if (token === '$${') return '${';
    const value = token.endsWith('}') ? resolveOne(inner!, context, keyPath) : undefined;
    if (value === undefined) {
      if (!token.endsWith('}'))
        context.issues.push({ path: keyPath, message: 'has a "${" that is never closed; write $${ for a literal "${"', reference: true });
      failed = true;
      return '';
    }
    referenced = true;
    return value;
  });
  if (failed) return '';
  return referenced ? new Secret(resolved) : resolved;
}

/** The value `inner` (`env:NAME`, `file:PATH`) refers to; undefined, with an issue naming the reference, when there is none. */
function resolveOne(inner: string, context: ReferenceContext, keyPath: string): string | undefined {
  const reference = `\${${inner}}`;
  const match = REFERENCE.exec(inner);
  const fail = (why: string): undefined => void context.issues.push({ path: keyPath, message: `has the reference ${reference}, but ${why}`, reference: true });
  if (!match) return fail(`a reference is \${env:NAME} or \${file:PATH}; write $\${ for a literal "\${"`);
  const [, kind, name] = match;
  if (kind === 'env') {
    if (!ENV_NAME.test(name!)) return fail(`"${name}" is not an environment variable name`);
    const value = process.env[name!];
    return value ?? fail(`the runner has no environment variable ${name}`);
  }
  const file = path.resolve(context.baseDir, name!);
  context.files.add(file);
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(`${file} cannot be read (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)})`);
  }
}
