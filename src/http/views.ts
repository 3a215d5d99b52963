import { createHash } from 'node:crypto';
import type { App } from '../app.js';
import type { Config } from '../config/load.js';
import { VERSION } from '../version.js';
import type { CollectorsReport, HealthReport, InputReport, RunnerReport } from './api-types.js';
import { listProblems, reloadProblems } from './problems.js';

/** What the status views read of the running app. */
export type StatusSource = Pick<
  App,
  'config' | 'state' | 'runtimeKind' | 'uptimeMs' | 'inputs' | 'concurrency' | 'reloads' | 'outputs' | 'gitRepos' | 'cluster' | 'lastErrors'
>;

/** GET /v1/collectors: the runner, every input and collector, every repository and output, and the errors collectors reported. */
export function collectorsReport(app: StatusSource): CollectorsReport {
  const runner = runnerReport(app);
  const inputs = inputReports(app);
  const outputs = app.outputs.status();
  return {
    version: VERSION,
    executor: app.runtimeKind,
    uptimeMs: Math.round(app.uptimeMs),
    runner,
    inputs,
    gitRepos: app.gitRepos?.status() ?? [],
    outputs,
    lastErrors: app.lastErrors.list(),
    problems: listProblems({ inputs, outputs, outputHealth: app.outputs.health(), lastReload: app.reloads.lastReload }),
  };
}

/**
 * Every input and collector with its state, every shared input another
 * cluster member runs (standby here), and every input of the config that
 * cannot be used.
 */
export function inputReports(app: Pick<StatusSource, 'config' | 'inputs' | 'cluster' | 'runtimeKind'>): InputReport[] {
  const { cluster } = app;
  const executor = app.runtimeKind ?? '';
  const running = app.inputs.map((input): InputReport => {
    const status: InputReport = input.status();
    if (!cluster) return status;
    return { ...status, cluster: input.config.cluster, ...(input.config.cluster === 'one' ? { owner: cluster.member } : {}) };
  });
  const here = new Set(running.map((status) => status.input));
  const standby = cluster
    ? app.config.inputs
        .filter((input) => input.cluster === 'one' && !here.has(input.name))
        .map(
          (input): InputReport => ({
            input: input.name,
            executor,
            mode: input.mode,
            state: 'standby',
            cluster: 'one',
            ...cluster.ownerOf(input.name),
            loadErrors: [],
            collectors: [],
          }),
        )
    : [];
  const unusable = app.config.problems.map(
    (problem): InputReport => ({
      input: problem.input ?? '',
      executor,
      mode: 'warm',
      state: 'failed',
      error: problem.message,
      loadErrors: [],
      collectors: [],
    }),
  );
  return [...running, ...standby, ...unusable];
}

/** The settings in effect and the config they came from. */
export function runnerReport(app: Pick<StatusSource, 'config' | 'concurrency' | 'runtimeKind' | 'reloads'>): RunnerReport {
  const { config } = app;
  return {
    concurrency: app.concurrency,
    workers: config.runner.workers,
    executor: app.runtimeKind,
    host: config.host,
    globalTags: config.globalTags,
    config: { source: config.source, digest: digestOf(config), loadedAt: app.reloads.loadedAt.toISOString() },
    lastReload: app.reloads.lastReload,
  };
}

/**
 * GET /healthz: `ok` once started with every input running, every output's
 * last write through and the last reload applied. `degraded` (still 200: a
 * liveness probe that restarted the runner would mend none of them) when an
 * input cannot start or has scripts that fail to load, a remote output cannot
 * send (its points wait in its disk buffer), or the last reload did not
 * apply all of the config. `failing` (503) when an output is losing points.
 */
export function healthReport(app: StatusSource): HealthReport {
  const inputs = inputReports(app).map(({ input, state, error }) =>
    state === 'running' || (state === 'standby' && !error) ? { input, ok: true } : { input, ok: false, error },
  );
  const outputs = app.outputs.health();
  const reloadProblem = reloadProblems(app.reloads.lastReload)
    .map((problem) => problem.message)
    .join('; ');
  const reload = reloadProblem ? { ok: false, error: reloadProblem } : { ok: true };
  const state = app.state;
  const degraded = outputs.some((output) => !output.ok) || inputs.some((input) => !input.ok) || !reload.ok;
  const status = state !== 'running' ? state : outputs.some((output) => !output.ok && !output.retrying) ? 'failing' : degraded ? 'degraded' : 'ok';
  return { status, outputs, inputs, reload };
}

/** A digest of a config: what /v1/collectors shows, so a person sees which version is in effect. */
const digestOf = (config: Config): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
