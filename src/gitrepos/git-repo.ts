import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RepoCheckout } from '../config/load.js';
import { GitError, type Git, type GitRemote } from './git.js';

/** Letters of a commit hash used in folder names and messages. */
const SHORT = 12;

/**
 * One repository under `<data_dir>/gitrepos/<name>`: a bare clone
 * (`repo.git`) fetched from the remote, and one folder per commit that was
 * fetched, holding that commit's tree. A commit's folder never changes, so
 * inputs loaded from it keep their code while newer commits are tried.
 */
export class GitRepo {
  readonly name: string;
  readonly branch: string;
  readonly #remote: GitRemote;
  readonly #git: Git;
  readonly #dir: string;

  constructor(options: { name: string; branch: string; remote: GitRemote; git: Git; dir: string }) {
    this.name = options.name;
    this.branch = options.branch;
    this.#remote = options.remote;
    this.#git = options.git;
    this.#dir = options.dir;
  }

  get url(): string {
    return this.#remote.url;
  }

  /** Fetches the branch's newest commit and unpacks it (once per commit). */
  async pull(): Promise<RepoCheckout> {
    const bare = path.join(this.#dir, 'repo.git');
    if (!existsSync(bare)) {
      await mkdir(this.#dir, { recursive: true });
      await this.#git.run(['init', '--quiet', '--bare', bare], this.#remote);
    }
    const ref = `refs/remotes/origin/${this.branch}`;
    await this.#git.run(
      ['--git-dir', bare, 'fetch', '--quiet', '--depth=1', '--no-tags', this.#remote.url, `+refs/heads/${this.branch}:${ref}`],
      this.#remote,
      {
        timeoutMs: 300_000,
      },
    );
    const commit = await this.#git.run(['--git-dir', bare, 'rev-parse', ref], this.#remote);
    return { repo: this.name, commit, dir: await this.#unpack(bare, commit) };
  }

  /** Removes the unpacked commits that hold none of `inUse` (folders inputs run from, at any depth). */
  async prune(inUse: ReadonlySet<string>): Promise<void> {
    for (const entry of await readdir(this.#dir).catch(() => [] as string[])) {
      const dir = path.join(this.#dir, entry);
      const used = [...inUse].some((folder) => folder === dir || folder.startsWith(dir + path.sep));
      if (/^[0-9a-f]{12}$/.test(entry) && !used) await rm(dir, { recursive: true, force: true });
    }
  }

  async #unpack(bare: string, commit: string): Promise<string> {
    const dir = path.join(this.#dir, commit.slice(0, SHORT));
    if (existsSync(dir)) return dir;
    const staging = path.join(this.#dir, `.unpacking-${commit.slice(0, SHORT)}`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const tar = spawn('tar', ['-x', '-C', staging], { stdio: ['pipe', 'ignore', 'pipe'] });
    let tarSaid = '';
    tar.stderr.on('data', (chunk: Buffer) => (tarSaid += chunk.toString('utf8')));
    const unpacked = new Promise<number | null>((resolve, reject) => tar.once('error', reject).once('close', resolve));
    await this.#git.run(['--git-dir', bare, 'archive', '--format=tar', commit], this.#remote, { stdout: tar.stdin });
    const code = await unpacked;
    if (code !== 0) throw new GitError(`cannot unpack commit ${commit.slice(0, SHORT)}: ${tarSaid.trim() || `tar exited with ${code}`}`);
    // Whole or not at all: a folder named after a commit is always that commit.
    await rename(staging, dir);
    return dir;
  }
}
