import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PythondError } from '../errors.js';
import { readTable, type Issue, type Schema } from '../schema/fields.js';
import { DEFAULT_CONFIG_TOML } from './default-config.js';
import { readCluster, type ClusterConfig } from './cluster.js';
import { readGitRepos, type GitReposConfig } from './git-repos.js';
import { issueLines, readInputBlocks, readRepoInputs, type InputConfig, type InputContext, type InputProblem, type RepoCheckout } from './inputs.js';
import { runnerSchema, type RunnerConfig } from './schema.js';
import { parseToml, TomlSyntaxError } from './toml-syntax.js';
import { isTable } from '../schema/table.js';

export type { InputConfig, InputProblem, RepoCheckout } from './inputs.js';
export type { GitReposConfig, RepoConfig } from './git-repos.js';
export type { ClusterConfig } from './cluster.js';
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
  /** The inputs of the config file, then those of each repository's conf.d. */
  inputs: InputConfig[];
  /** Inputs that cannot be used now (a repository's broken conf.d, a dir not found in any repository): the others run. */
  problems: InputProblem[];
  outputs: OutputConfig[];
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
 * Loads `file`; without one, the file $PYTHOND_CONFIG names, else
 * `./pythond.toml` when it exists, else the embedded default. Every problem
 * is reported at once, each naming the file, the line and the key.
 */
export function loadConfig(file: string | undefined, plugins: ConfigPlugins, checkouts: readonly RepoCheckout[] = []): Config {
  const fromEnv = file === undefined ? process.env[CONFIG_ENV] || undefined : undefined;
  const chosen = file ?? fromEnv ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (chosen === undefined) return parseConfig(DEFAULT_CONFIG_TOML, EMBEDDED_SOURCE, process.cwd(), plugins, checkouts);
  let text: string;
  try {
    text = readFileSync(chosen, 'utf8');
  } catch (err) {
    throw new ConfigError([`config ${chosen}${fromEnv ? ` (named by ${CONFIG_ENV})` : ''}: cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, chosen, path.dirname(path.resolve(chosen)), plugins, checkouts);
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
 */
export function parseConfig(text: string, source: string, baseDir: string, plugins: ConfigPlugins, checkouts: readonly RepoCheckout[] = []): Config {
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
    if (!['runner', 'inputs', 'outputs', 'git_repos', 'cluster'].includes(key)) {
      issues.push({ path: key, message: 'is not a known table; pythond.toml has [runner], [[inputs.pythond]], [[outputs.<name>]], [git_repos] and [cluster]' });
    }
  }

  const runner = readTable(top.runner, runnerSchema(baseDir, plugins.runtimes), 'runner', issues);
  const gitRepos = readGitRepos(top.git_repos, baseDir, issues);
  const cluster = readCluster(top.cluster, baseDir, issues);
  const { inputs, problems } = readInputs(top.inputs, { runner, baseDir, mainSource: source, checkouts, names: new Map() }, gitRepos, text, issues);
  const outputs = readOutputs(top.outputs, baseDir, plugins.outputs, { listen: runner.listen }, issues);

  if (issues.length > 0) throw new ConfigError(issueLines(issues, source, text));
  return deepFreeze({ source, runner, gitRepos, ...(cluster ? { cluster } : {}), inputs, problems, outputs });
}

/**
 * The config file's inputs, then each repository's. A problem in the
 * config file stops it; with repositories, a `dirs` entry found nowhere
 * (yet) and anything wrong in a repository's conf.d only keep that input
 * out.
 */
function readInputs(
  raw: unknown,
  context: InputContext,
  gitRepos: GitReposConfig,
  text: string,
  issues: Issue[],
): { inputs: InputConfig[]; problems: InputProblem[] } {
  const inputs: InputConfig[] = [];
  const problems: InputProblem[] = [];
  for (const block of readInputBlocks(raw, context.mainSource, context, issues)) {
    issues.push(...block.issues);
    if (block.input) inputs.push(block.input);
    else if (gitRepos.repos.length === 0) issues.push(...block.unresolved);
    else if (block.issues.length === 0)
      for (const message of issueLines(block.unresolved, context.mainSource, text)) problems.push({ input: block.name, message });
  }
  for (const checkout of context.checkouts) {
    const fromRepo = readRepoInputs(checkout, context);
    inputs.push(...fromRepo.inputs);
    problems.push(...fromRepo.problems);
  }
  if (inputs.length === 0 && problems.length === 0 && gitRepos.repos.length === 0 && !issues.some((issue) => issue.path.startsWith('inputs'))) {
    issues.push({ path: 'inputs', message: 'has no [[inputs.pythond]] block; add one with name and dirs' });
  }
  return { inputs, problems };
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
