import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import toml from 'toml';
import { discoverDir, DiscoveryProblem, displayPath, type DiscoveredDir } from '../discovery/discover.js';
import { PythondError } from '../errors.js';
import { readTable, type Issue, type Schema } from '../schema/fields.js';
import { DEFAULT_CONFIG_TOML } from './default-config.js';
import { inputSchema, runnerSchema, type InputTable, type RunnerConfig } from './schema.js';
import { TomlLocator } from './toml-locator.js';

export interface InputConfig extends InputTable {
  /** `inputs.pythond[0]`: where this input is in the config, for messages. */
  key: string;
  /** Each `dirs` entry with the collector modules found in it. */
  discovered: DiscoveredDir[];
}

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
  /** Rules across keys, checked once every key has been read: `key` is the key to blame. */
  check?(options: never): { key: string; message: string }[];
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
  inputs: InputConfig[];
  outputs: OutputConfig[];
}

export const EMBEDDED_SOURCE = '<embedded default>';
export const DEFAULT_CONFIG_FILE = 'pythond.toml';

/** A config that cannot be used; `message` lists every problem, one per line. */
export class ConfigError extends PythondError {
  readonly issues: string[];

  constructor(issues: string[]) {
    super('CONFIG_INVALID', issues.join('\n'));
    this.issues = issues;
  }
}

/**
 * Loads `file`; without one, `./pythond.toml` when it exists, else the
 * embedded default. Every problem is reported at once, each naming the file,
 * the line and the key.
 */
export function loadConfig(file: string | undefined, plugins: ConfigPlugins): Config {
  const chosen = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (chosen === undefined) return parseConfig(DEFAULT_CONFIG_TOML, EMBEDDED_SOURCE, process.cwd(), plugins);
  let text: string;
  try {
    text = readFileSync(chosen, 'utf8');
  } catch (err) {
    throw new ConfigError([`config ${chosen}: cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, chosen, path.dirname(path.resolve(chosen)), plugins);
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tablesAt(raw: unknown, key: string, issues: Issue[]): unknown[] {
  if (raw === undefined) return [];
  if (Array.isArray(raw)) return raw;
  issues.push({ path: key, message: `must be written as [[${key}]] tables` });
  return [];
}

/** Parses and validates config text; relative paths are taken from `baseDir`. */
export function parseConfig(text: string, source: string, baseDir: string, plugins: ConfigPlugins): Config {
  let raw: unknown;
  try {
    raw = toml.parse(text);
  } catch (err) {
    const e = err as { message: string; line?: number; column?: number; location?: { start: { line: number; column: number } } };
    const at = e.location?.start ?? (e.line ? { line: e.line, column: e.column ?? 0 } : undefined);
    throw new ConfigError([`config ${source}${at ? `:${at.line}:${at.column}` : ''}: invalid TOML: ${e.message}`]);
  }

  const issues: Issue[] = [];
  const top = isTable(raw) ? raw : {};
  for (const key of Object.keys(top)) {
    if (!['runner', 'inputs', 'outputs'].includes(key)) {
      issues.push({ path: key, message: 'is not a known table; pythond.toml has [runner], [[inputs.pythond]] and [[outputs.<name>]]' });
    }
  }

  const runner = readTable(top.runner, runnerSchema(baseDir, plugins.runtimes), 'runner', issues);
  const inputs = readInputs(top.inputs, runner, issues);
  const outputs = readOutputs(top.outputs, baseDir, plugins.outputs, issues);

  if (issues.length > 0) {
    const locator = new TomlLocator(text);
    throw new ConfigError(
      issues.map(({ path: keyPath, message }) => {
        const line = locator.lineOf(keyPath);
        return `config ${source}${line ? `:${line}` : ''}: ${keyPath} ${message}`;
      }),
    );
  }
  return deepFreeze({ source, runner, inputs, outputs });
}

function readInputs(raw: unknown, runner: RunnerConfig, issues: Issue[]): InputConfig[] {
  const inputs: InputConfig[] = [];
  if (raw === undefined) {
    issues.push({ path: 'inputs', message: 'has no [[inputs.pythond]] block; add one with name and dirs' });
    return inputs;
  }
  if (!isTable(raw)) {
    issues.push({ path: 'inputs', message: 'must hold [[inputs.pythond]] tables' });
    return inputs;
  }
  for (const kind of Object.keys(raw)) {
    if (kind !== 'pythond') issues.push({ path: `inputs.${kind}`, message: 'is not an input pythond runs; only [[inputs.pythond]] blocks are read' });
  }

  const names = new Map<string, string>();
  tablesAt(raw.pythond, 'inputs.pythond', issues).forEach((table, i) => {
    const key = `inputs.pythond[${i}]`;
    const input = readTable(table, inputSchema(), key, issues);
    if (input.name !== undefined) {
      const earlier = names.get(input.name);
      if (earlier) issues.push({ path: `${key}.name`, message: `"${input.name}" is already the name of ${earlier}; input names must be unique` });
      names.set(input.name, key);
    }

    const discovered: DiscoveredDir[] = [];
    const modules = new Map<string, { file: string; real: string }>();
    (input.dirs ?? []).forEach((entry, j) => {
      try {
        const dir = discoverDir(runner.python_d, entry);
        const unseen = dir.modules.filter(({ module, file }) => {
          const real = realpathSync(file);
          const other = modules.get(module);
          if (!other) modules.set(module, { file, real });
          else if (other.real !== real)
            issues.push({ path: `${key}.dirs[${j}]`, message: `module "${module}" (${file}) has the same import name as ${other.file}; rename one of them` });
          // The same file reached through two entries is imported once.
          return !other;
        });
        discovered.push({ ...dir, modules: unseen });
      } catch (err) {
        if (!(err instanceof DiscoveryProblem)) throw err;
        issues.push({
          path: `${key}.dirs[${j}]`,
          message: `names ${JSON.stringify(entry)}, but ${err.message} (dirs are read under python_d = ${displayPath(runner.python_d)})`,
        });
      }
    });
    inputs.push({ ...input, key, discovered });
  });
  if (inputs.length === 0 && !issues.some((issue) => issue.path.startsWith('inputs'))) {
    issues.push({ path: 'inputs', message: 'has no [[inputs.pythond]] block; add one with name and dirs' });
  }
  return inputs;
}

function readOutputs(raw: unknown, baseDir: string, plugins: ConfigPlugins['outputs'], issues: Issue[]): OutputConfig[] {
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
        for (const problem of plugin.check?.(options as never) ?? []) issues.push({ path: `${key}.${problem.key}`, message: problem.message });
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
