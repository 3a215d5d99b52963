import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { codeDigest } from '../discovery/code-files.js';
import { discoverDir, DiscoveryProblem, displayPath, type DiscoveredDir } from '../discovery/discover.js';
import { readTable, type Issue } from '../schema/fields.js';
import { readDependencies, type InputDependencies } from './dependencies.js';
import type { GlobalTags } from './global-tags.js';
import { inputSchema, type InputTable, type PullPolicy, type RunnerConfig } from './schema.js';
import { TomlLocator } from './toml-locator.js';
import { isTable } from '../schema/table.js';

export interface InputConfig extends Omit<InputTable, 'image' | 'pull'> {
  /** The image its hosts run in (docker): its own `image`, else `[runner] image`. */
  image: string;
  /** When that image is pulled: its own `pull`, else `[runner] pull`. */
  pull: PullPolicy;
  /** `inputs.pythond[0]`: where this input is in its file, for messages. */
  key: string;
  /** The file it comes from: the config file, a file of conf.d, or `gitrepos/<repo>@<commit>:conf.d/<file>`. */
  source: string;
  /** The global tags its points get (after their own and the input's `tags`): the election tags for `cluster = "one"` under [cluster], else the host tags. */
  globalTags: Readonly<Record<string, string>>;
  /** The host name its collectors see (their container's Hostname): this machine's, as the config resolved it. */
  hostname: string;
  /** Each `dirs` entry with the collector modules found in it. */
  discovered: DiscoveredDir[];
  /** A digest of every file of its dirs when the config was read: a reload restarts the input's hosts only when it (or a host key) changed. */
  codeDigest: string;
  /** What is installed for it before its hosts start (`apt`, requirements.txt), built into an image or a virtual environment. */
  dependencies: InputDependencies;
}

/** A commit of a git repository, unpacked where inputs can run from it (src/gitrepos makes them). */
export interface RepoCheckout {
  repo: string;
  commit: string;
  /** The unpacked tree, holding conf.d/ and python.d/. */
  dir: string;
}

/** An input that cannot be used, and why (one line naming the file, the line and the key); the others run. */
export interface InputProblem {
  /** Its name, when the block has one. */
  input?: string;
  message: string;
}

/** Where `dirs` entries are looked for, the global tags, and the names taken so far. */
export interface InputContext {
  runner: RunnerConfig;
  /** The config file's folder: relative paths of input keys are read from it. */
  baseDir: string;
  checkouts: readonly RepoCheckout[];
  globalTags: GlobalTags;
  hostname: string;
  /** Whether the config has [cluster]: its `cluster = "one"` inputs get the election tags. */
  clustered: boolean;
  /** Input name → where it was first defined. */
  names: Map<string, { key: string; source: string }>;
}

/** What one `[[inputs.pythond]]` block gave: the input, problems with the block, and `dirs` entries found nowhere. */
export interface BlockResult {
  input?: InputConfig;
  name?: string;
  issues: Issue[];
  /** Entries not found: an error of the config without repositories; with them, of this input only (their content changes). */
  unresolved: Issue[];
}

/** The `[[inputs.pythond]]` blocks of an `inputs` table, each read on its own. */
export function readInputBlocks(raw: unknown, source: string, context: InputContext, issues: Issue[]): BlockResult[] {
  if (raw === undefined) return [];
  if (!isTable(raw)) {
    issues.push({ path: 'inputs', message: 'must hold [[inputs.pythond]] tables' });
    return [];
  }
  for (const kind of Object.keys(raw)) {
    if (kind !== 'pythond') issues.push({ path: `inputs.${kind}`, message: 'is not an input pythond runs; only [[inputs.pythond]] blocks are read' });
  }
  if (raw.pythond === undefined) return [];
  if (!Array.isArray(raw.pythond)) {
    issues.push({ path: 'inputs.pythond', message: 'must be written as [[inputs.pythond]] tables' });
    return [];
  }
  return raw.pythond.map((table, i) => readInputBlock(table, `inputs.pythond[${i}]`, source, context));
}

function readInputBlock(table: unknown, key: string, source: string, context: InputContext): BlockResult {
  const issues: Issue[] = [];
  const unresolved: Issue[] = [];
  const input = readTable(table, inputSchema(context.baseDir), key, issues);
  if (input.name !== undefined) {
    const earlier = context.names.get(input.name);
    const where = earlier && (earlier.source === source ? earlier.key : `${earlier.key} of ${earlier.source}`);
    if (where) issues.push({ path: `${key}.name`, message: `"${input.name}" is already the name of ${where}; input names must be unique` });
    else context.names.set(input.name, { key, source });
  }

  if (input.ports?.length && (input.network === 'host' || input.network === 'none')) {
    const why =
      input.network === 'host'
        ? 'network = "host" shares the host\'s network, so the collector\'s ports are on the host already; leave ports out'
        : 'network = "none" gives the container no network to publish them on; use "bridge" or a network name';
    issues.push({ path: `${key}.ports`, message: `publishes ports, but ${why}` });
  }
  if (input.apt?.length && context.runner.executor === 'process') {
    issues.push({
      path: `${key}.apt`,
      message:
        'lists Debian packages, which pythond installs into the input\'s image: that needs the docker executor, not executor = "process"; install them on this machine with apt-get and leave apt out, or run with Docker',
    });
  }

  if (input.overlap === 'kill' && input.timeout === 0) {
    issues.push({
      path: `${key}.overlap`,
      message: 'is "kill", but timeout = "0" makes the collectors services, whose one run is meant to last and is never overlapped; leave overlap out',
    });
  }

  const discovered: DiscoveredDir[] = [];
  const modules = new Map<string, { file: string; real: string }>();
  (input.dirs ?? []).forEach((entry, j) => {
    try {
      const dir = resolveDir(entry, context);
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
      unresolved.push({ path: `${key}.dirs[${j}]`, message: `names ${JSON.stringify(entry)}, but ${err.message} (${whereDirsAre(context)})` });
    }
  });
  const ok = issues.length === 0 && unresolved.length === 0;
  if (!ok) return { name: input.name, issues, unresolved };
  const dependencies = readDependencies(input, discovered, context.runner);
  const image = input.image ?? context.runner.image;
  const pull = input.pull ?? context.runner.pull;
  const globalTags = context.clustered && input.cluster === 'one' ? context.globalTags.election : context.globalTags.host;
  return {
    input: { ...input, image, pull, key, source, globalTags, hostname: context.hostname, discovered, codeDigest: codeDigest(discovered), dependencies },
    name: input.name,
    issues,
    unresolved,
  };
}

/**
 * A `dirs` entry: absolute as written; relative, under `python.d/` of the
 * one repository that has it (in two, it is an error naming both), else
 * under `[runner] python_d`.
 */
function resolveDir(entry: string, context: InputContext): DiscoveredDir {
  if (path.isAbsolute(entry)) return discoverDir('/', entry);
  const holders = context.checkouts.filter((checkout) => existsSync(path.join(checkout.dir, 'python.d', entry)));
  if (holders.length > 1) {
    throw new DiscoveryProblem(`it is in more than one git repository: ${holders.map((checkout) => checkout.repo).join(' and ')}; rename one of the folders`);
  }
  return discoverDir(holders[0] ? path.join(holders[0].dir, 'python.d') : context.runner.python_d, entry);
}

function whereDirsAre({ runner, checkouts }: InputContext): string {
  const local = `python_d = ${displayPath(runner.python_d)}`;
  return checkouts.length === 0
    ? `dirs are read under ${local}`
    : `dirs are read under python.d/ of git repos ${checkouts.map((c) => c.repo).join(', ')}, then under ${local}`;
}

/** Issue lines as the config reports them: `config <source>:<line>: <key> <message>`. */
export function issueLines(issues: Issue[], source: string, text: string): string[] {
  const locator = new TomlLocator(text);
  return issues.map(({ path: keyPath, message }) => {
    const line = locator.lineOf(keyPath);
    return `config ${source}${line ? `:${line}` : ''}: ${keyPath} ${message}`;
  });
}

/** Where the blocks of one file go: its inputs, and the inputs that cannot be used yet. */
export interface TakenInputs {
  inputs: InputConfig[];
  problems: InputProblem[];
}

/**
 * Sorts the blocks of one file (`text`, named `source`): the inputs; `dirs`
 * entries found nowhere, which with git repositories keep only that input
 * out (a pull may bring them); and every other problem, handed to `fail`.
 */
export function takeBlocks(
  blocks: readonly BlockResult[],
  file: { source: string; text: string; hasRepos: boolean },
  taken: TakenInputs,
  fail: (issues: Issue[], input: string | undefined) => void,
): void {
  for (const block of blocks) {
    if (block.input) {
      taken.inputs.push(block.input);
      continue;
    }
    if (block.issues.length > 0) fail(block.issues, block.name);
    if (!file.hasRepos) fail(block.unresolved, block.name);
    else if (block.issues.length === 0)
      for (const message of issueLines(block.unresolved, file.source, file.text)) taken.problems.push({ input: block.name, message });
  }
}
