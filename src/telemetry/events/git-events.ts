import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/**
 * Pulls of the `[[git_repos.repo]]` repositories. Each method is one event:
 * it says what happened in the log and counts it on /metrics.
 */
export class GitEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** A pull of `repo` went through; `newCommit` is set when it brought a commit not seen before. */
  pulled(repo: { name: string; branch: string }, newCommit: string | undefined): void {
    this.#metrics.gitPulls.inc({ repo: repo.name, result: 'ok' });
    this.#metrics.gitLastPull.set({ repo: repo.name }, Date.now() / 1000);
    if (newCommit) this.#log.info({ repo: repo.name, commit: newCommit }, `git repo ${repo.name}: at commit ${newCommit.slice(0, 12)} of ${repo.branch}`);
  }

  /** A pull of `repo` failed and is tried again in `retryMs`; `kept` is the commit that stays in use, if one was pulled before. */
  pullFailed(repo: { name: string; url: string }, error: string, kept: string | undefined, retryMs: number): void {
    this.#metrics.gitPulls.inc({ repo: repo.name, result: 'error' });
    const keeping = kept ? `; commit ${kept.slice(0, 12)} stays in use` : '';
    this.#log.warn({ repo: repo.name }, `git repo ${repo.name} (${repo.url}): pull failed: ${error}${keeping}; retrying in ${Math.round(retryMs / 1000)} s`);
  }
}
