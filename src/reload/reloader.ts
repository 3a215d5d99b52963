import path from 'node:path';
import { EMBEDDED_SOURCE, type Config, type OutputConfig, type RepoCheckout } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import type { GitRepos } from '../gitrepos/git-repos.js';
import type { HostStarts } from '../hosts/host-starts.js';
import type { InputSet } from '../inputs/input-set.js';
import type { OutputSet, RunningOutput } from '../outputs/running-output.js';
import type { TickQueue } from '../scheduler/tick-queue.js';
import type { ReloadEvents } from '../telemetry/events/reload-events.js';
import { RUN_EVERY_INPUT, type InputChanges, type InputPolicy } from './input-policy.js';
import { planReload, type ReloadPlan } from './plan.js';
import { ChangeWatcher, type Watched } from './watcher.js';

/** Where the config comes from, read again at every reload; `checkouts` are the git repositories' current commits. */
export interface ConfigSource {
  load(checkouts: readonly RepoCheckout[]): Config;
}

/** What one reload did. */
export interface ReloadResult extends InputChanges {
  /** `ok`: applied (or nothing changed); `partial`: some inputs kept their old version; `error`: the config cannot be used, nothing changed. */
  result: 'ok' | 'partial' | 'error';
  trigger: string;
  at: string;
  durationMs: number;
  /** Runner keys applied to the running runner (`concurrency`, ...). */
  runner: string[];
  /** Runner keys that changed but apply only at the next start. */
  needsRestart: string[];
  /** Why the config could not be used (result `error`). */
  error?: string;
}

/** The parts of the running runner a reload reaches besides the inputs. */
export interface ReloadTargets {
  outputs: OutputSet;
  /** A running output for a block added by a reload. */
  createOutput: (output: OutputConfig) => RunningOutput;
  queue: TickQueue;
  hostStarts: HostStarts;
}

/** A tick in flight of an input that stops gets at most this long, or shutdown_timeout if shorter. */
const STOP_GRACE_MS = 5_000;

/**
 * The one way the running runner takes a new config, whatever asks for it:
 * a change of the config file or of a collector's folder (watched), SIGHUP,
 * a git repository's new commit, or POST /v1/reload. It reads the config
 * again, plans what changed (src/reload/plan.ts), applies it (only what
 * changed restarts; a new version is tried before it replaces the old),
 * says what it did, and watches what the config now names. One change of
 * the inputs at a time: reloads and the cluster's changes of owners
 * (`converge`) wait their turn.
 */
export class Reloader {
  readonly #source: ConfigSource;
  readonly #targets: ReloadTargets;
  readonly #events: ReloadEvents;
  #policy: InputPolicy = RUN_EVERY_INPUT;
  #config: Config;
  #loadedAt = new Date();
  #lastReload: ReloadResult | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #watcher: ChangeWatcher | undefined;
  /** conf.d files already said to hold nothing for pythond: each is said once. */
  readonly #skippedSaid = new Set<string>();
  /** From start() until close(). */
  #running: { inputs: InputSet; gitRepos: GitRepos | undefined } | undefined;
  readonly #onSighup = (): void => void this.reload('SIGHUP');

  /**
   * With `watch` (`pythond run`), SIGHUP reloads from now on (node's default
   * would end a long-running agent), and from start() on so does a change of
   * the config file or of a folder of the inputs' scripts; what is watched
   * follows every reload, whatever started it.
   */
  constructor(options: { config: Config; source: ConfigSource; targets: ReloadTargets; events: ReloadEvents; watch?: boolean }) {
    this.#config = options.config;
    this.#source = options.source;
    this.#targets = options.targets;
    this.#events = options.events;
    if (!options.watch) return;
    this.#watcher = new ChangeWatcher({ changed: (files) => void this.reload(changedTrigger(files)), events: options.events });
    process.on('SIGHUP', this.#onSighup);
  }

  /**
   * Takes reloads from now on, applied to `inputs`; with git repositories,
   * reads the config again with their checkouts (pulled once by now), and
   * reloads at each new commit.
   */
  start(inputs: InputSet, gitRepos: GitRepos | undefined): void {
    this.#running = { inputs, gitRepos };
    if (gitRepos) {
      this.#config = this.#source.load(gitRepos.checkouts());
      this.#loadedAt = new Date();
      gitRepos.on('updated', (repo, commit) => void this.reload(`git ${repo}@${commit.slice(0, 12)}`));
    }
    this.#watcher?.watch(this.#watched());
  }

  /** The config in effect: the last one loaded, with the old version of any input whose new one did not load. */
  get config(): Config {
    return this.#config;
  }

  get loadedAt(): Date {
    return this.#loadedAt;
  }

  get lastReload(): ReloadResult | undefined {
    return this.#lastReload;
  }

  /** Which inputs run here from now on (a cluster member's share); apply it with converge(). */
  set policy(policy: InputPolicy) {
    this.#policy = policy;
  }

  /**
   * Reads the config again (and the repositories' current commits) and
   * applies what changed: inputs added, removed, changed in place, or tried
   * in new hosts and swapped in once they load; outputs added and removed;
   * runner keys that can change live. Unchanged inputs keep their hosts and
   * schedule. A config that cannot be read changes nothing.
   */
  reload(trigger: string): Promise<ReloadResult> {
    return this.#inTurn(async () => {
      const result = await this.#reload(trigger);
      this.#reportResult(result);
      if (this.#running) this.#watcher?.watch(this.#watched());
      return result;
    });
  }

  /** Runs what the config in effect and the policy say should run here: at start, and when a cluster member's share changes. */
  converge(): Promise<InputChanges> {
    return this.#inTurn(async () => {
      const changes = emptyChanges();
      if (!this.#running) return changes;
      await this.#applyInputs(this.#running.inputs, planReload(this.#inEffect(), this.#policy.effective(this.#config)), this.#graceMs(this.#config), changes);
      this.#policy.settled();
      return changes;
    });
  }

  /** Says what is wrong with the inputs of the config in effect, and which conf.d files it left alone (at start; reloads say it of theirs). */
  reportProblems(): void {
    this.#report(this.#config);
  }

  /** Stops watching and taking reloads; resolves once the change under way (if any) is done. */
  async close(): Promise<void> {
    this.#running = undefined;
    process.off('SIGHUP', this.#onSighup);
    this.#watcher?.close();
    await this.#turn;
  }

  async #reload(trigger: string): Promise<ReloadResult> {
    const began = performance.now();
    const result: ReloadResult = { result: 'ok', trigger, at: new Date().toISOString(), durationMs: 0, ...emptyChanges(), runner: [], needsRestart: [] };
    const done = (outcome: Partial<ReloadResult>): ReloadResult =>
      Object.assign(result, outcome, { durationMs: Math.round((performance.now() - began) * 10) / 10 });
    const running = this.#running;
    if (!running) return done({ result: 'error', error: 'pythond is not running' });
    let next: Config;
    try {
      next = this.#source.load(running.gitRepos?.checkouts() ?? []);
    } catch (err) {
      return done({ result: 'error', error: `the config cannot be used, nothing changed: ${errorMessage(err)}` });
    }
    const { outputs, queue, hostStarts, createOutput } = this.#targets;
    const effective = this.#policy.effective(next);
    const plan = planReload(this.#inEffect(), effective, await running.inputs.pulledAgain(effective.inputs));
    const graceMs = this.#graceMs(next);
    result.needsRestart = plan.runner.restart;
    result.runner = plan.runner.live;
    if (plan.runner.live.includes('concurrency')) queue.concurrency = next.runner.concurrency;
    if (plan.runner.live.includes('host_starts')) hostStarts.limit = next.runner.host_starts;
    await outputs.change(
      plan.outputs.add.map(createOutput),
      plan.outputs.remove.map((output) => output.id),
      graceMs,
    );

    const kept = new Map(this.#config.inputs.map((input) => [input.name, input]));
    const stayed = await this.#applyInputs(running.inputs, plan, graceMs, result);
    // What runs now: the new config, but the old version of an input whose new one did not load.
    this.#config = { ...next, inputs: next.inputs.map((input) => (stayed.has(input.name) ? kept.get(input.name)! : input)) };
    this.#loadedAt = new Date();
    this.#policy.configured(this.#config);
    this.#policy.settled();
    this.#report(next);
    await running.gitRepos?.prune(new Set(this.#config.inputs.flatMap((input) => input.discovered.map((dir) => dir.path))));
    return done({ result: result.failed.length > 0 ? 'partial' : 'ok' });
  }

  /**
   * Applies the input part of a plan: changes in place, removals, additions,
   * and new versions tried in new hosts. Returns the inputs whose new
   * version did not load (their old one runs on). An input the policy no
   * longer lets run here (a cluster member fenced meanwhile) is not started.
   */
  async #applyInputs(inputs: InputSet, plan: ReloadPlan, graceMs: number, changes: InputChanges): Promise<Set<string>> {
    const policy = this.#policy;
    for (const { next: input, live } of plan.keep) {
      if (live.length === 0) continue;
      inputs.update(input);
      changes.updated.push(input.name);
    }
    const running = new Map(inputs.all.map((input) => [input.name, input.config]));
    await Promise.all(
      plan.remove.map(async (name) => {
        await inputs.remove(name, policy.graceFor(running.get(name), graceMs));
        changes.removed.push(name);
      }),
    );
    await Promise.all(
      plan.add.map(async (input) => {
        if (!policy.mayRun(input)) return;
        await inputs.add(input);
        changes.added.push(input.name);
      }),
    );
    const stayed = new Set<string>();
    await Promise.all(
      plan.restart.map(async ({ next: input, why }) => {
        if (!policy.mayRun(input)) return;
        this.#events.tryingNewVersion(input.name, why);
        const outcome = await inputs.replace(input, policy.graceFor(input, graceMs));
        if (outcome.replaced) changes.restarted.push(input.name);
        // Stopped meanwhile (a cluster member fenced): the new version starts when it may run again.
        else if (inputs.get(input.name)) {
          stayed.add(input.name);
          changes.failed.push({ input: input.name, error: outcome.error });
        }
      }),
    );
    return stayed;
  }

  /** The config the inputs running now were started with (a reload's starting point). */
  #inEffect(): Config {
    return { ...this.#config, inputs: this.#running?.inputs.all.map((input) => input.config) ?? [] };
  }

  #graceMs(config: Config): number {
    return Math.min(config.runner.shutdown_timeout, STOP_GRACE_MS);
  }

  /** Runs `work` once the changes of the inputs before it are done. */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#turn.then(work);
    this.#turn = done.catch(() => {});
    return done;
  }

  /** What is wrong with the inputs of `config`, and the conf.d files it left alone that were not said yet. */
  #report(config: Config): void {
    for (const problem of config.problems) this.#events.inputUnusable(problem.input, problem.message);
    const unsaid = config.skippedFiles.filter((file) => !this.#skippedSaid.has(file));
    for (const file of unsaid) this.#skippedSaid.add(file);
    if (unsaid.length > 0) this.#events.confFilesSkipped(unsaid);
  }

  #reportResult(result: ReloadResult): void {
    this.#lastReload = result;
    const changes = (['added', 'removed', 'restarted', 'updated', 'runner'] as const)
      .filter((key) => result[key].length > 0)
      .map((key) => `${key === 'runner' ? 'applied [runner]' : key} ${result[key].join(', ')}`);
    const summary = `reload (${result.trigger}) ${result.result} in ${result.durationMs} ms: ${changes.join('; ') || 'nothing changed'}`;
    if (result.result === 'error') this.#events.refused(result.trigger, result.error ?? '');
    else if (result.result === 'partial') this.#events.partlyApplied(summary, result.failed);
    else this.#events.applied(summary);
    if (result.needsRestart.length > 0) this.#events.needsRestart(result.needsRestart);
  }

  /**
   * What a change of reloads: the config file (not the embedded default),
   * the conf.d folder (files added in it too), the folders of the inputs'
   * scripts, and a script given alone in `dirs` (as a file too), except
   * those of git repositories, whose checkouts never change (a pull brings a
   * new one, and says so).
   */
  #watched(): Watched {
    const config = this.#config;
    const checkouts = this.#running?.gitRepos?.dir;
    const inCheckouts = (dir: string): boolean => checkouts !== undefined && dir.startsWith(checkouts + path.sep);
    const discovered = config.inputs.flatMap((input) => input.discovered).filter((dir) => !inCheckouts(dir.path));
    const scripts = discovered.filter((dir) => dir.path !== dir.folder).map((dir) => dir.path);
    return {
      files: [...(config.source === EMBEDDED_SOURCE ? [] : [path.resolve(config.source)]), ...scripts],
      dirs: discovered.map((dir) => dir.folder),
      configDirs: config.runner.conf_d ? [config.runner.conf_d] : [],
    };
  }
}

/** `python.d/mine/loadavg.py changed`, `pythond.toml and 2 more changed`: what a watched change's reload says it came from. */
function changedTrigger(files: string[]): string {
  const [first, ...more] = files.map(displayPath);
  return `${first}${more.length === 0 ? '' : more.length === 1 ? ` and ${more[0]}` : ` and ${more.length} more`} changed`;
}

const emptyChanges = (): InputChanges => ({ added: [], removed: [], restarted: [], updated: [], failed: [] });
