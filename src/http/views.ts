import { createHash } from 'node:crypto';
import type { App } from '../app.js';
import type { Config } from '../config/load.js';
import { VERSION } from '../version.js';
import type { CollectorsReport, HealthReport, InputReport, RunnerReport } from './api-types.js';

/** What the status views read of the running app. */
export type StatusSource = Pick<
  App,
  'config' | 'state' | 'runtimeKind' | 'uptimeMs' | 'inputs' | 'concurrency' | 'reloads' | 'outputs' | 'gitRepos' | 'cluster' | 'lastErrors'
>;

/** GET /v1/collectors: the runner, every input and collector, every repository and output, and the errors collectors reported. */
export function collectorsReport(app: StatusSource): CollectorsReport {
  return {
    version: VERSION,
    executor: app.runtimeKind,
    uptimeMs: Math.round(app.uptimeMs),
    runner: runnerReport(app),
    inputs: inputReports(app),
    gitRepos: app.gitRepos?.status() ?? [],
    outputs: app.outputs.status(),
    lastErrors: app.lastErrors.list(),
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
 * GET /healthz: `ok` once started and every output's last write went
 * through; an input that cannot start or has scripts that fail to load
 * makes it `degraded` (a liveness probe that restarted the runner would not
 * mend a script); an output whose last write failed makes it `failing`.
 */
export function healthReport(app: StatusSource): HealthReport {
  const inputs = inputReports(app).map(({ input, state, error }) =>
    state === 'running' || (state === 'standby' && !error) ? { input, ok: true } : { input, ok: false, error },
  );
  const outputs = app.outputs.health();
  const state = app.state;
  const status = state !== 'running' ? state : outputs.some((output) => !output.ok) ? 'failing' : inputs.some((input) => !input.ok) ? 'degraded' : 'ok';
  return { status, outputs, inputs };
}

/** A digest of a config: what /v1/collectors shows, so a person sees which version is in effect. */
const digestOf = (config: Config): string => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 12);
