import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PythondError } from '../errors.js';
import { FieldError, readTable, type Issue, type Schema } from '../schema/fields.js';
import { DEFAULT_CONFIG_TOML } from './default-config.js';
import { readCluster, type ClusterConfig } from './cluster.js';
import { readLocalConfD, readRepoInputs } from './conf-d.js';
import { readGitRepos, type GitReposConfig } from './git-repos.js';
import { readGlobalTags, type GlobalTags } from './global-tags.js';
import { resolveHostIdentity, type HostIdentity } from './host-identity.js';
import { issueLines, readInputBlocks, takeBlocks, type InputConfig, type InputContext, type InputProblem, type RepoCheckout } from './inputs.js';
import { runnerSchema, type RunnerConfig } from './schema.js';
import { parseToml, TomlSyntaxError } from './toml-syntax.js';
import { isTable } from '../schema/table.js';
import { displayPath } from '../discovery/discover.js';

export type { InputConfig, InputProblem, RepoCheckout } from './inputs.js';
export type { GitReposConfig, RepoConfig } from './git-repos.js';
export type { ClusterConfig } from './cluster.js';
export type { GlobalTags } from './global-tags.js';
export type { HostIdentity } from './host-identity.js';
export type { InputDependencies } from './dependencies.js';

/** One `[[outputs.<type>]]` block, its keys read against that output's schema. */
export interface OutputConfig {
  type: string;
  /** `file[0]`, `influxdb[1]`: the label used in logs and metrics. */
  id: string;
  options: Record<string, unknown>;
}

/** What the config reader needs of an output plugin: its keys, and its rules across keys. */
export interface OutputSchemaPlugin {
  /** The keys of one `[[outputs.<name>]]` table; relative paths are taken from `baseDir`. */
  schema(baseDir: string): Schema;
  /** Rules across keys (and against the runner's own `listen`), checked once every key has been read: `key` is the key to blame. */
  check?(options: never, runner: OutputCheckContext): { key: string; message: string }[];
}

/** What an output's cross-key rules may compare against. */
export interface OutputCheckContext {
  /** `[runner] listen`: the runner's own HTTP API, which an output must not write back into. */
  listen: string;
}

/**
 * The plugins a config may name. Passed in, so that reading a config knows
 * no plugin: `[[outputs.<name>]]` is read against `outputs[name]`, and
 * `[runner] executor` must be `auto` or one of `runtimes`.
 */
export interface ConfigPlugins {
  outputs: Readonly<Record<string, OutputSchemaPlugin>>;
  runtimes: readonly string[];
}

export interface Config {
  /** The config file, or `<embedded default>`. */
  source: string;
  runner: RunnerConfig;
  gitRepos: GitReposConfig;
  /** `[cluster]`: the inputs are shared with other replicas through etcd; absent, this runner runs them all. */
  cluster?: ClusterConfig;
  /** This machine's name (`[runner] hostname`, PYTHOND_HOSTNAME or the OS's) and address, as collectors and global tags see them. */
  host: HostIdentity;
  /** `[global_host_tags]` and `[global_election_tags]`, resolved for `host`. */
  globalTags: GlobalTags;
  /** The inputs of the config file, then those of the conf.d folder, then those of each repository's conf.d. */
  inputs: InputConfig[];
  /** Inputs that cannot be used now (a repository's broken conf.d, a dir not found in any repository): the others run. */
  problems: InputProblem[];
  /** conf.d files (the local folder's and the repositories') with nothing for pythond: said once, at info. */
  skippedFiles: string[];
  outputs: OutputConfig[];
}

/** Where a config is read from: the file (`--config`), and the conf.d folder when `--conf-d` names one. */
export interface ConfigLocation {
  file?: string;
  confD?: string;
}

export const EMBEDDED_SOURCE = '<embedded default>';
export const DEFAULT_CONFIG_FILE = 'pythond.toml';
/** The environment variable naming the config file when none is given (a container image sets it, as compose.yaml does). */
export const CONFIG_ENV = 'PYTHOND_CONFIG';

/** A config that cannot be used; `message` lists every problem, one per line. */
export class ConfigError extends PythondError {
  readonly issues: string[];

  constructor(issues: string[]) {
    super('CONFIG_INVALID', issues.join('\n'));
    this.issues = issues;
  }
}

/**
 * Loads `location.file`; without one, the file $PYTHOND_CONFIG names, else
 * `./pythond.toml` when it exists, else the embedded default; and the conf.d
 * folder. Every problem is reported at once, each naming the file, the line
 * and the key.
 */
export function loadConfig(location: ConfigLocation, plugins: ConfigPlugins, checkouts: readonly RepoCheckout[] = []): Config {
  const fromEnv = location.file === undefined ? process.env[CONFIG_ENV] || undefined : undefined;
  const chosen = location.file ?? fromEnv ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (chosen === undefined) return parseConfig(DEFAULT_CONFIG_TOML, EMBEDDED_SOURCE, process.cwd(), plugins, checkouts, location.confD);
  let text: string;
  try {
    text = readFileSync(chosen, 'utf8');
  } catch (err) {
    throw new ConfigError([`config ${chosen}${fromEnv ? ` (named by ${CONFIG_ENV})` : ''}: cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, chosen, path.dirname(path.resolve(chosen)), plugins, checkouts, location.confD);
}

function tablesAt(raw: unknown, key: string, issues: Issue[]): unknown[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw;
  issues.push({ path: key, message: `must be written as [[${key}]] tables` });
  return [];
}

/**
 * Parses and validates config text; relative paths are taken from `baseDir`.
 * `checkouts` are the git repositories' current commits: their conf.d
 * inputs are read too, and relative `dirs` are looked for in them first.
 * `confD` (`--conf-d`, from the working directory) replaces `[runner] conf_d`.
 */
export function parseConfig(
  text: string,
  source: string,
  baseDir: string,
  plugins: ConfigPlugins,
  checkouts: readonly RepoCheckout[] = [],
  confD?: string,
): Config {
  let raw: unknown;
  try {
    raw = parseToml(text, source);
  } catch (err) {
    if (err instanceof TomlSyntaxError) throw new ConfigError([err.message]);
    throw err;
  }

  const issues: Issue[] = [];
  const top = isTable(raw) ? raw : {};
  for (const key of Object.keys(top)) {
    if (!TOP_TABLES.includes(key)) {
      issues.push({
        path: key,
        message: `is not a known table; pythond.toml has ${TOP_TABLES.map((table) => TABLE_HEADERS[table] ?? `[${table}]`).join(', ')}`,
      });
    }
  }

  const runner = readTable(top.runner, runnerSchema(baseDir, plugins.runtimes), 'runner', issues);
  runner.conf_d = confDFolder(confD, runner.conf_d, baseDir, issues);
  const gitRepos = readGitRepos(top.git_repos, baseDir, issues);
  const cluster = readCluster(top.cluster, baseDir, issues);
  const host = hostIdentity(runner.hostname, issues);
  const globalTags = readGlobalTags(top, host, issues);
  const context: InputContext = { runner, baseDir, checkouts, globalTags, hostname: host.name, clustered: cluster !== undefined, names: new Map() };
  const file = { source, text, hasRepos: gitRepos.repos.length > 0 };
  const { inputs, problems, skippedFiles, errors } = readInputs(top.inputs, context, file, issues);
  const outputs = readOutputs(top.outputs, baseDir, plugins.outputs, { listen: runner.listen }, issues);

  if (issues.length > 0 || errors.length > 0) throw new ConfigError([...issueLines(issues, source, text), ...errors]);
  return deepFreeze({ source, runner, gitRepos, ...(cluster ? { cluster } : {}), host, globalTags, inputs, problems, skippedFiles, outputs });
}

const TOP_TABLES = ['runner', 'inputs', 'outputs', 'git_repos', 'cluster', 'global_host_tags', 'global_election_tags'];
const TABLE_HEADERS: Record<string, string> = { inputs: '[[inputs.pythond]]', outputs: '[[outputs.<name>]]' };

/** The conf.d folder read: `--conf-d`, else `[runner] conf_d`, else `conf.d` beside the config file when it is there. */
function confDFolder(fromCommandLine: string | undefined, configured: string | undefined, baseDir: string, issues: Issue[]): string | undefined {
  if (fromCommandLine === undefined) return configured ?? (isFolder(path.join(baseDir, 'conf.d')) ? path.join(baseDir, 'conf.d') : undefined);
  const folder = path.resolve(fromCommandLine);
  if (isFolder(folder)) return folder;
  issues.push({ path: 'runner.conf_d', message: `is given as --conf-d ${fromCommandLine}, which is not a folder` });
  return undefined;
}

function isFolder(folder: string): boolean {
  try {
    return statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/** This machine's name and address; a PYTHOND_HOSTNAME that is no host name is a problem of `[runner] hostname`. */
function hostIdentity(configured: string | undefined, issues: Issue[]): HostIdentity {
  try {
    return resolveHostIdentity(configured);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    issues.push({ path: 'runner.hostname', message: err.message });
    return resolveHostIdentity(undefined, {});
  }
}

/**
 * The config file's inputs, then the conf.d folder's, then each
 * repository's. A problem in the config file or in conf.d stops it
 * (`errors`: conf.d's, each naming its file); with repositories, a `dirs`
 * entry found nowhere (yet) and anything wrong in a repository's conf.d
 * only keep that input out.
 */
function readInputs(
  raw: unknown,
  context: InputContext,
  file: { source: string; text: string; hasRepos: boolean },
  issues: Issue[],
): { inputs: InputConfig[]; problems: InputProblem[]; skippedFiles: string[]; errors: string[] } {
  const taken = { inputs: [] as InputConfig[], problems: [] as InputProblem[] };
  takeBlocks(readInputBlocks(raw, file.source, context, issues), file, taken, (blockIssues) => void issues.push(...blockIssues));
  const { conf_d } = context.runner;
  const exclude = file.source === EMBEDDED_SOURCE ? undefined : path.resolve(file.source);
  const fromConfD = conf_d ? [readLocalConfD(conf_d, exclude, context, file.hasRepos)] : [];
  const fromRepos = context.checkouts.map((checkout) => readRepoInputs(checkout, context));
  for (const read of [...fromConfD, ...fromRepos]) {
    taken.inputs.push(...read.inputs);
    taken.problems.push(...read.problems);
  }
  const all = [...fromConfD, ...fromRepos];
  const errors = all.flatMap((read) => read.errors);
  const { inputs, problems } = taken;
  const inputIssues = errors.length > 0 || issues.some((issue) => issue.path.startsWith('inputs'));
  if (inputs.length === 0 && problems.length === 0 && !file.hasRepos && !inputIssues) {
    const where = conf_d ? ` (nor has any *.conf of ${displayPath(conf_d)})` : '';
    issues.push({ path: 'inputs', message: `has no [[inputs.pythond]] block${where}; add one with name and dirs` });
  }
  return { inputs, problems, skippedFiles: all.flatMap((read) => read.skipped), errors };
}

function readOutputs(raw: unknown, baseDir: string, plugins: ConfigPlugins['outputs'], context: OutputCheckContext, issues: Issue[]): OutputConfig[] {
  const outputs: OutputConfig[] = [];
  if (raw !== undefined && !isTable(raw)) {
    issues.push({ path: 'outputs', message: 'must hold [[outputs.<name>]] tables' });
    return outputs;
  }
  // Blocks by what they say, so that two identical ones (two [[outputs.stdout]]) are caught: each would get every point.
  const blocks = new Map<string, string>();
  for (const [type, tables] of Object.entries(raw ?? {})) {
    const plugin = Object.hasOwn(plugins, type) ? plugins[type]! : undefined;
    if (!plugin) {
      issues.push({ path: `outputs.${type}`, message: `is not a known output; known outputs: ${Object.keys(plugins).join(', ')}` });
      continue;
    }
    tablesAt(tables, `outputs.${type}`, issues).forEach((table, i) => {
      const key = `outputs.${type}[${i}]`;
      const before = issues.length;
      const options = readTable(table, plugin.schema(baseDir), key, issues);
      // Rules across keys only make sense once every key read well.
      if (issues.length === before)
        for (const problem of plugin.check?.(options as never, context) ?? []) issues.push({ path: `${key}.${problem.key}`, message: problem.message });
      const block = `${type} ${JSON.stringify(options)}`;
      const twin = blocks.get(block);
      if (twin) issues.push({ path: key, message: `is the same as ${twin}: every point would be written twice; remove one of them` });
      else blocks.set(block, key);
      outputs.push({ type, id: `${type}[${i}]`, options });
    });
  }
  if (Object.keys(raw ?? {}).length === 0) {
    issues.push({ path: 'outputs', message: 'has no output; add for example [[outputs.file]] with path = "data/points.jsonl"' });
  }
  return outputs;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
