import path from 'node:path';
import {
  boolean,
  duration,
  FieldError,
  nonEmptyString,
  optional,
  readableFile,
  readTable,
  secret,
  withDefault,
  type Field,
  type Issue,
} from '../schema/fields.js';
import { isTable } from '../schema/table.js';
import { Secret } from '../schema/secret.js';

/** One enabled `[[git_repos.repo]]`. */
export interface RepoConfig {
  /** The last part of its URL, without `.git`: its folder under `<data_dir>/gitrepos`, and how messages name it. */
  name: string;
  /** As written, credentials included (a Secret: it prints as `<secret>`): only the git runner reads it. */
  url: Secret;
  branch: string;
  ssh_private_key_path?: string;
  ssh_private_key_password?: Secret;
}

/** `[git_repos]`: where collectors and their `conf.d` inputs come from besides pythond.toml. */
export interface GitReposConfig {
  /** Milliseconds between pulls. */
  pull_interval: number;
  repos: RepoConfig[];
}

const SCP_LIKE = /^[\w.-]+@[\w.-]+:[^/]/;

/** A git URL: http(s)://, ssh://, git@host:path, file:// or a local path. Never echoed back: it may hold a token. */
const gitUrl = (): Field<Secret> => ({
  takesSecrets: true,
  read(value) {
    const url = secret({ nonEmpty: true, expected: 'a git URL' }).read(value);
    const text = url.reveal().trim();
    if (/^(https?|ssh|file):\/\/./.test(text) || SCP_LIKE.test(text) || path.isAbsolute(text)) return new Secret(text);
    throw new FieldError('must be an https://, ssh://, git@host:path or file:// URL, or an absolute path to a repository');
  },
});

/** The keys of `[git_repos]` itself; its `[[git_repos.repo]]` blocks are read against repoSchema. */
export const gitReposSchema = () => ({ pull_interval: withDefault(duration(1_000), 60_000) });

export const repoSchema = (baseDir: string) => ({
  enable: withDefault(boolean(), true),
  url: gitUrl(),
  branch: withDefault(nonEmptyString('a branch name'), 'master'),
  ssh_private_key_path: optional(readableFile(baseDir)),
  ssh_private_key_password: optional(secret({ nonEmpty: false, expected: 'a passphrase' })),
});

/** `collectors` for `https://git.example.com/team/collectors.git`, `git@host:team/collectors.git` or `/srv/git/collectors`. */
export function repoName(url: string): string {
  const last =
    url
      .replace(/[/\\]+$/, '')
      .split(/[/:\\]/)
      .pop() ?? '';
  return last.replace(/\.git$/, '');
}

/** Reads `[git_repos]` and its `[[git_repos.repo]]` blocks; only enabled repositories are kept. */
export function readGitRepos(raw: unknown, baseDir: string, issues: Issue[]): GitReposConfig {
  const table = isTable(raw) ? raw : {};
  const { repo, ...rest } = table;
  const { pull_interval } = readTable(raw === undefined ? undefined : rest, gitReposSchema(), 'git_repos', issues);
  if (repo !== undefined && !Array.isArray(repo)) issues.push({ path: 'git_repos.repo', message: 'must be written as [[git_repos.repo]] tables' });
  const repos: RepoConfig[] = [];
  const names = new Map<string, string>();
  (Array.isArray(repo) ? repo : []).forEach((block, i) => {
    const key = `git_repos.repo[${i}]`;
    const { enable, url, branch, ssh_private_key_path, ssh_private_key_password } = readTable(block, repoSchema(baseDir), key, issues);
    if (!enable || url === undefined) return;
    const name = repoName(url.reveal());
    const earlier = names.get(name);
    if (!/^[\w.-]+$/.test(name))
      issues.push({ path: `${key}.url`, message: `does not end in a name pythond can use as a folder (got ${JSON.stringify(name)})` });
    else if (earlier) issues.push({ path: `${key}.url`, message: `names repository "${name}" like ${earlier}; two repositories cannot share a name` });
    names.set(name, key);
    repos.push({ name, url, branch, ssh_private_key_path, ssh_private_key_password });
  });
  return { pull_interval, repos };
}
