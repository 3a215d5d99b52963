import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { displayPath } from '../discovery/discover.js';
import type { Issue } from '../schema/fields.js';
import { isTable } from '../schema/table.js';
import { parseToml, TomlSyntaxError } from './toml-syntax.js';
import { issueLines, readInputBlocks, takeBlocks, type BlockResult, type InputContext, type RepoCheckout, type TakenInputs } from './inputs.js';

/**
 * DataKit's conf.d: a folder of `*.conf` files, sub-folders included, where
 * each input has its file beside other inputs' (`cpu.conf`, `db/mysql.conf`)
 * and DataKit's own `datakit.conf`. pythond reads the `[[inputs.pythond]]`
 * blocks of each file as it reads the config file's, and leaves the files
 * that hold none alone.
 */

/** What one conf.d gave. */
export interface ConfDInputs extends TakenInputs {
  /** What keeps the config from being used, one line each naming the file and line (a local conf.d is part of the config). */
  errors: string[];
  /** The files with nothing for pythond, and why when it is not plain: logged once, at info. */
  skipped: string[];
}

/** A conf file naming pythond's input is the operator's: TOML that cannot be read there is an error, anywhere else none of pythond's business. */
const NAMES_PYTHOND = /\binputs\s*\.\s*["']?pythond\b/;

/**
 * Every `*.conf` under `dir`, depth first, names in code point order within
 * a folder (as DataKit walks conf.d). Hidden entries (`.name`, a mounted
 * ConfigMap's `..data`) are skipped; a link to a file is read, a link to a
 * folder is not followed (it could loop).
 */
export function confFiles(dir: string): string[] {
  const files: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...confFiles(full));
    else if (entry.name.endsWith('.conf') && (entry.isFile() || (entry.isSymbolicLink() && isFile(full)))) files.push(full);
  }
  return files;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false; // a dangling link
  }
}

/** One conf file: skipped (nothing for pythond), unreadable although it names pythond's input, or its blocks. */
type ConfFile =
  | { skipped: true; why?: string }
  | { skipped: false; error: string }
  | { skipped: false; text: string; blocks: BlockResult[]; fileIssues: Issue[] };

function readConfFile(file: string, source: string, context: InputContext): ConfFile {
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = parseToml(text, source);
  } catch (err) {
    if (!(err instanceof TomlSyntaxError)) throw err;
    if (NAMES_PYTHOND.test(text)) return { skipped: false, error: err.message };
    return { skipped: true, why: `not TOML pythond can read${err.line ? ` (line ${err.line})` : ''}` };
  }
  const top = isTable(raw) ? raw : {};
  const inputs = isTable(top.inputs) ? top.inputs : {};
  if (inputs.pythond === undefined) return { skipped: true };
  const fileIssues: Issue[] = [];
  for (const key of Object.keys(top)) {
    if (key !== 'inputs')
      fileIssues.push({ path: key, message: 'is not read from conf.d: only [[inputs.pythond]] blocks are; the rest belongs in the config file' });
  }
  // Other inputs' tables ([[inputs.cpu]], [inputs.mysql]) are DataKit's, beside ours.
  const blocks = readInputBlocks({ pythond: inputs.pythond }, source, context, fileIssues);
  return { skipped: false, text, blocks, fileIssues };
}

/** How the files of one conf.d are named, and what their problems do. */
interface ConfDRules {
  /** The file as messages name it. */
  sourceOf(file: string): string;
  /** The file as the list of skipped ones names it. */
  shownAs(file: string): string;
  hasRepos: boolean;
  /** Whether a problem keeps the config from being used (a local conf.d), or only its input out (a repository's). */
  fatal: boolean;
  /** The config file, when it is in the folder: it is read once, as the config file. */
  exclude?: string;
}

function readConfD(dir: string, rules: ConfDRules, context: InputContext): ConfDInputs {
  const result: ConfDInputs = { inputs: [], problems: [], errors: [], skipped: [] };
  const fail = (lines: string[], input?: string): void => {
    if (rules.fatal) result.errors.push(...lines);
    else for (const message of lines) result.problems.push({ input, message });
  };
  let files: string[];
  try {
    files = confFiles(dir).filter((file) => file !== rules.exclude);
  } catch (err) {
    fail([`config ${rules.sourceOf(dir)}: cannot read the conf.d folder: ${(err as Error).message}`]);
    return result;
  }
  for (const file of files) {
    const source = rules.sourceOf(file);
    let read: ConfFile;
    try {
      read = readConfFile(file, source, context);
    } catch (err) {
      fail([`config ${source}: cannot read the file: ${(err as Error).message}`]);
      continue;
    }
    if (read.skipped) result.skipped.push(`${rules.shownAs(file)}${read.why ? ` (${read.why})` : ''}`);
    else if ('error' in read) fail([read.error]);
    else {
      const failIssues = (issues: Issue[], input?: string): void => fail(issueLines(issues, source, read.text), input);
      failIssues(read.fileIssues);
      takeBlocks(read.blocks, { source, text: read.text, hasRepos: rules.hasRepos }, result, failIssues);
    }
  }
  return result;
}

/**
 * The inputs of a local conf.d (`[runner] conf_d` or `--conf-d`), read as the
 * config file is: a problem in one of its files keeps the config from being
 * used, but for `dirs` entries found nowhere while there are git repositories.
 * `exclude`: the config file, when it is in the folder.
 */
export function readLocalConfD(dir: string, exclude: string | undefined, context: InputContext, hasRepos: boolean): ConfDInputs {
  return readConfD(dir, { sourceOf: displayPath, shownAs: displayPath, hasRepos, fatal: true, exclude }, context);
}

/** `gitrepos/collectors@3f2a9c1b7d4e:conf.d/redis.conf`: how messages name a file of a checkout. */
export const repoSource = (checkout: RepoCheckout, file: string): string => `gitrepos/${checkout.repo}@${checkout.commit.slice(0, 12)}:${file}`;

/**
 * The inputs of every `conf.d/**\/*.conf` of a checkout. A file or a block
 * that cannot be used is a problem naming the repository, the commit, the
 * file and the line; the other blocks and files still load.
 */
export function readRepoInputs(checkout: RepoCheckout, context: InputContext): ConfDInputs {
  const confD = path.join(checkout.dir, 'conf.d');
  const relative = (file: string): string => path.relative(checkout.dir, file);
  if (!existsSync(confD)) return { inputs: [], problems: [], errors: [], skipped: [] };
  return readConfD(
    confD,
    {
      sourceOf: (file) => repoSource(checkout, relative(file)),
      // Without the commit: a file skipped at one commit is not news at the next.
      shownAs: (file) => `gitrepos/${checkout.repo}:${relative(file)}`,
      hasRepos: true,
      fatal: false,
    },
    context,
  );
}
