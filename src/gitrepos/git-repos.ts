import { EventEmitter } from 'node:events';
import path from 'node:path';
import { Backoff } from '../backoff.js';
import type { GitReposConfig, RepoCheckout } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { GitEvents } from '../telemetry/events/git-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { Git, splitCredentials } from './git.js';
import { GitRepo } from './git-repo.js';

/** One repository as the status API shows it: never with its credentials. */
export interface RepoStatus {
  repo: string;
  url: string;
  branch: string;
  /** The newest commit fetched. */
  commit?: string;
  /** When a pull last went through (ISO 8601). */
  lastPull?: string;
  /** Why the last pull failed, while it is the last one. */
  lastError?: string;
  lastErrorAt?: string;
  /** Failed pulls in a row. */
  failures: number;
}

interface Tracked {
  repo: GitRepo;
  status: RepoStatus;
  checkout?: RepoCheckout;
  backoff: Backoff;
  timer?: NodeJS.Timeout;
}

export interface GitReposEvents {
  /** A pull brought a commit not seen before. */
  updated: [repo: string, commit: string];
}

/**
 * The `[[git_repos.repo]]` repositories: each pulled every `pull_interval`
 * into `<data_dir>/gitrepos/<name>`; a failed pull is retried with backoff
 * (5 s doubling up to the pull interval), logged and counted, and the last
 * good checkout stays in use. A new commit is announced with `updated`.
 */
export class GitRepos extends EventEmitter<GitReposEvents> {
  /** Where the checkouts are unpacked, `<data_dir>/gitrepos`. */
  readonly dir: string;
  readonly #tracked: Tracked[];
  readonly #pullIntervalMs: number;
  readonly #events: GitEvents;
  #closed = false;

  constructor(options: { config: GitReposConfig; dataDir: string; log: Logger; metrics: Metrics }) {
    super();
    const dir = path.join(options.dataDir, 'gitrepos');
    this.dir = dir;
    const git = new Git(dir);
    this.#pullIntervalMs = options.config.pull_interval;
    this.#events = new GitEvents(options.log.child({ component: 'gitrepos' }), options.metrics);
    this.#tracked = options.config.repos.map((config) => {
      const remote = { ...splitCredentials(config.url.reveal()), sshKey: config.ssh_private_key_path };
      if (config.ssh_private_key_password !== undefined) remote.password = config.ssh_private_key_password.reveal();
      const repo = new GitRepo({ name: config.name, branch: config.branch, remote, git, dir: path.join(dir, config.name) });
      return {
        repo,
        status: { repo: config.name, url: repo.url, branch: config.branch, failures: 0 },
        backoff: new Backoff({ firstMs: 5_000, maxMs: Math.max(5_000, options.config.pull_interval) }),
      };
    });
  }

  /** Pulls every repository once (resolves when each has succeeded or failed), then keeps pulling on schedule. */
  async start(): Promise<void> {
    await Promise.all(this.#tracked.map((tracked) => this.#pull(tracked)));
  }

  /** The newest good checkout of each repository pulled at least once. */
  checkouts(): RepoCheckout[] {
    return this.#tracked.flatMap(({ checkout }) => (checkout ? [checkout] : []));
  }

  status(): RepoStatus[] {
    return this.#tracked.map(({ status }) => ({ ...status }));
  }

  /** Removes unpacked commits no longer in use: the newest of each repository, and those in `inUse` (folders), stay. */
  async prune(inUse: ReadonlySet<string>): Promise<void> {
    for (const { repo, checkout } of this.#tracked) await repo.prune(new Set([...inUse, ...(checkout ? [checkout.dir] : [])]));
  }

  close(): void {
    this.#closed = true;
    for (const tracked of this.#tracked) clearTimeout(tracked.timer);
  }

  async #pull(tracked: Tracked): Promise<void> {
    const { repo, status } = tracked;
    let waitMs = this.#pullIntervalMs;
    try {
      const checkout = await repo.pull();
      const isNew = checkout.commit !== tracked.checkout?.commit;
      tracked.checkout = checkout;
      tracked.backoff.succeeded();
      Object.assign(status, { commit: checkout.commit, lastPull: new Date().toISOString(), lastError: undefined, lastErrorAt: undefined, failures: 0 });
      this.#events.pulled(repo, isNew ? checkout.commit : undefined);
      if (isNew && !this.#closed) this.emit('updated', repo.name, checkout.commit);
    } catch (err) {
      waitMs = tracked.backoff.failed();
      const error = errorMessage(err);
      Object.assign(status, { lastError: error, lastErrorAt: new Date().toISOString(), failures: status.failures + 1 });
      this.#events.pullFailed(repo, error, tracked.checkout?.commit, waitMs);
    }
    if (!this.#closed) tracked.timer = setTimeout(() => void this.#pull(tracked), waitMs).unref();
  }
}
