import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { dedent, freePort, tempTree, waitFor } from './fixtures.js';

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', ...args], { cwd, encoding: 'utf8' }).trim();

/**
 * A real git repository made by the test: a bare repository (what pythond
 * pulls from) and a work tree the test commits to and pushes from.
 */
export class TestRepo {
  readonly bare: string;
  readonly #work: string;

  private constructor(root: string, name: string) {
    this.bare = path.join(root, `${name}.git`);
    this.#work = path.join(root, 'work');
    git(root, 'init', '--quiet', '--bare', '--initial-branch=master', this.bare);
    git(root, 'clone', '--quiet', this.bare, this.#work);
  }

  /** `name` is the repository's name (the bare folder is `<name>.git`). */
  static create(name: string): TestRepo {
    return new TestRepo(tempTree(), name);
  }

  /** Writes `files` (dedented; `null` removes one), commits and pushes them; returns the commit. */
  push(files: Record<string, string | null>, message = 'change'): string {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(this.#work, name);
      if (content === null) rmSync(file, { force: true });
      else {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, dedent(content));
      }
    }
    git(this.#work, 'add', '--all');
    git(this.#work, 'commit', '--quiet', '-m', message);
    git(this.#work, 'push', '--quiet', 'origin', 'HEAD:master');
    return git(this.#work, 'rev-parse', 'HEAD');
  }
}

/**
 * Git's smart HTTP protocol on loopback, as a git server behind a web server
 * serves it: `git http-backend` as a CGI program, behind basic auth.
 */
export async function gitHttpServer(
  projectRoot: string,
  credentials: { user: string; password: string },
): Promise<{ url: string; requests: string[]; close(): void }> {
  const expected = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.headers.authorization !== expected) {
      response.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(request.url!, 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: request.method,
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: request.headers['content-type'] ?? '',
        REMOTE_USER: credentials.user,
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    request.pipe(cgi.stdin);
    const chunks: Buffer[] = [];
    cgi.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    cgi.on('close', () => {
      const output = Buffer.concat(chunks);
      const split = output.indexOf('\r\n\r\n');
      const head = output.subarray(0, split).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of head) {
        const [name, ...rest] = line.split(':');
        if (name!.toLowerCase() === 'status') status = Number.parseInt(rest.join(':').trim(), 10);
        else headers[name!] = rest.join(':').trim();
      }
      response.writeHead(status, headers).end(output.subarray(split + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.close() };
}

/**
 * An OpenSSH server on a loopback port that lets in the holder of a key
 * made here (with `passphrase`), as root: git over ssh as a git server
 * reached with a deploy key serves it. Needs root and Debian's
 * openssh-server: skipped with the reason elsewhere, failing in CI.
 */
export async function sshServer(t: TestContext, passphrase: string): Promise<{ port: number; key: string; close(): void } | undefined> {
  const sshd = '/usr/sbin/sshd';
  if (process.getuid?.() !== 0 || !existsSync(sshd)) {
    const why = 'needs root and openssh-server (/usr/sbin/sshd) to serve git over ssh on loopback';
    if (process.env.CI === 'true') throw new Error(why);
    t.skip(why);
    return undefined;
  }
  const dir = tempTree();
  const key = path.join(dir, 'deploy_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'pythond-test', '-f', key]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation folder
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
    ].join('\n'),
  );
  const server = spawn(sshd, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  server.stderr.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (server.exitCode !== null) throw new Error(`sshd exited: ${said}`);
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    'sshd to listen',
  );
  return { port, key, close: () => server.kill() };
}
