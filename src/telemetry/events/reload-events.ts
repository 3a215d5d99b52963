import type { Metrics } from '../metrics.js';
import type { Logger } from '../logger.js';

/**
 * What happens to the config while pythond runs: reloads and the watch that
 * starts them. Each method is one event: it says what happened in the log
 * and counts it on /metrics, so an operator who alerts on the metrics misses
 * nothing the log says is wrong.
 */
export class ReloadEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** An input changed in a way its hosts cannot take: its new version is tried in new hosts while the old one runs on. */
  tryingNewVersion(input: string, why: readonly string[]): void {
    this.#log.info({ input }, `reload: input ${input} changed (${why.join(', ')}): trying the new version in new hosts`);
  }

  /** A reload applied a config (or found nothing changed): `summary` says what it did. */
  applied(summary: string): void {
    this.#metrics.reloads.inc({ result: 'ok' });
    this.#log.info(summary);
  }

  /** A reload applied a config, but some inputs' new versions did not load: their old versions run on. */
  partlyApplied(summary: string, kept: readonly { input: string; error: string }[]): void {
    this.#metrics.reloads.inc({ result: 'partial' });
    this.#log.error(`${summary}; kept the running version of ${kept.map((k) => `${k.input} (${k.error})`).join('; ')}`);
  }

  /** A reload found a config it cannot use: nothing changed. */
  refused(trigger: string, error: string): void {
    this.#metrics.reloads.inc({ result: 'error' });
    this.#log.error(`reload (${trigger}): ${error}`);
  }

  /** Runner keys changed that apply only when pythond restarts. */
  needsRestart(keys: readonly string[]): void {
    for (const key of keys) this.#metrics.reloadRestartNeeded.inc({ key });
    this.#log.warn(`reload: ${keys.map((key) => `[runner] ${key}`).join(', ')} changed, which applies only when pythond restarts`);
  }

  /** An input of the config cannot be used (a bad block, a folder that is not there): the others run. */
  inputUnusable(input: string | undefined, message: string): void {
    this.#metrics.inputConfigErrors.inc({ input: input ?? '' });
    this.#log.error({ input }, `input ${input ?? '(unnamed)'} cannot be used: ${message}`);
  }

  /** conf.d files with no [[inputs.pythond]] (other inputs', DataKit's datakit.conf), said once each: pythond leaves them alone, which is no problem. */
  confFilesSkipped(files: readonly string[]): void {
    this.#log.info({ files }, `conf.d: ${files.length} file(s) with no [[inputs.pythond]] block, left to DataKit: ${files.join(', ')}`);
  }

  /** A file or folder whose changes reload cannot be watched (gone, or no watches left): SIGHUP and POST /v1/reload still reload. */
  watchFailed(target: string, error: string): void {
    this.#metrics.watchErrors.inc();
    this.#log.warn(`cannot watch ${target} for changes (${error}); SIGHUP or POST /v1/reload still reload`);
  }
}
