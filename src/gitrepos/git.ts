import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Answers git's and ssh's password prompts from the environment of the one
 * git command that asks, so a credential is never an argument (visible in
 * `ps`), never in a URL git stores or prints, and never on disk.
 */
const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$PYTHOND_GIT_USERNAME" ;;
  *) printf '%s\\n' "$PYTHOND_GIT_PASSWORD" ;;
esac
`;

/** How to reach one repository: its URL without credentials, and the credentials apart. */
export interface GitRemote {
  /** The URL with any `user:password@` taken out: what commands, logs and the status API see. */
  url: string;
  username?: string;
  password?: string;
  /** For ssh: the private key, and its passphrase (given as `password`). */
  sshKey?: string;
}

/** An https://user:token@host/... URL split into a URL without credentials and the credentials. */
export function splitCredentials(url: string): GitRemote {
  if (!/^https?:\/\//.test(url)) return { url };
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username) || undefined;
  const password = decodeURIComponent(parsed.password) || undefined;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, username, password };
}

/** A failed git command: what it said, with nothing secret in it. */
export class GitError extends Error {}

/**
 * Runs git commands for pythond's repositories: never interactive, with the
 * askpass script answering from the environment, ssh keys through
 * GIT_SSH_COMMAND, and new ssh hosts remembered in `known_hosts` beside
 * the repositories.
 */
export class Git {
  readonly #dir: string;
  readonly #askpass: string;

  /** `dir`: `<data_dir>/gitrepos`, where the askpass script and known_hosts live. */
  constructor(dir: string) {
    this.#dir = dir;
    this.#askpass = path.join(dir, '.askpass');
  }

  /** Runs `git args` and resolves with its stdout; rejects with a GitError holding its stderr. */
  async run(args: string[], remote: GitRemote, options: { cwd?: string; timeoutMs?: number; stdout?: NodeJS.WritableStream } = {}): Promise<string> {
    this.#ensureAskpass();
    const child = spawn('git', ['-c', 'credential.helper=', ...args], {
      cwd: options.cwd,
      env: this.#environment(remote),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    if (options.stdout) child.stdout.pipe(options.stdout);
    else child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    if (code === 0) return out.trim();
    const said = err.trim().split('\n').filter(Boolean).slice(-3).join(' ');
    throw new GitError(signal ? `git ${args[0]} did not finish in time` : said || `git ${args[0]} failed with code ${code}`);
  }

  #environment(remote: GitRemote): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: this.#askpass,
      SSH_ASKPASS: this.#askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      PYTHOND_GIT_USERNAME: remote.username ?? '',
      PYTHOND_GIT_PASSWORD: remote.password ?? '',
      // Proxies and CA bundles of the machine still apply.
      ...pick(process.env, ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'GIT_SSL_CAINFO', 'SSL_CERT_FILE']),
    };
    const ssh = ['ssh', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${path.join(this.#dir, 'known_hosts')}`];
    if (remote.sshKey) ssh.push('-o', 'IdentitiesOnly=yes', '-i', remote.sshKey);
    env.GIT_SSH_COMMAND = ssh.map((part) => (/[\s'"]/.test(part) ? `'${part.replace(/'/g, "'\\''")}'` : part)).join(' ');
    return env;
  }

  #ensureAskpass(): void {
    if (existsSync(this.#askpass)) return;
    mkdirSync(this.#dir, { recursive: true });
    writeFileSync(this.#askpass, ASKPASS, { mode: 0o700 });
    chmodSync(this.#askpass, 0o700);
  }
}

function pick(from: NodeJS.ProcessEnv, keys: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(keys.filter((key) => from[key] !== undefined).map((key) => [key, from[key]]));
}
