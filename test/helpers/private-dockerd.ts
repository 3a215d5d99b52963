import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { docker as sharedEngine } from './docker.js';
import { exitOf } from './child-exit.js';
import { waitFor, within } from './fixtures.js';
import { cannotRun } from './required.js';

/**
 * A Docker engine of the test's own, so a test can stop and start it: its
 * own socket, data root, exec root and pid file, its own network namespace
 * with no bridge (`--bridge none`, no iptables), so the shared engine's
 * docker0 and state stay untouched. Its containers have no network; its
 * data survives stop/start, as a real engine's does.
 */
export class PrivateDockerd {
  readonly host: string;
  readonly docker: Docker;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    this.host = `unix://${path.join(dir, 'docker.sock')}`;
    this.docker = new Docker({ socketPath: path.join(dir, 'docker.sock') });
  }

  /**
   * Starts one, removed after the test file. Needs root and dockerd: skipped
   * with the reason elsewhere, failing in CI.
   */
  static async start(t: TestContext): Promise<PrivateDockerd | undefined> {
    if (process.getuid?.() !== 0) {
      cannotRun(t, 'needs root to start a Docker engine of its own');
      return undefined;
    }
    // Short: containerd's socket path under the exec root must stay below 108 bytes.
    const engine = new PrivateDockerd(mkdtempSync('/tmp/pdk-'));
    after(async () => {
      await engine.stop();
      rmSync(engine.#dir, { recursive: true, force: true });
    });
    await engine.resume();
    return engine;
  }

  /** Starts (again) the engine on its data; resolves once it answers. */
  async resume(): Promise<void> {
    const log = openSync(path.join(this.#dir, 'dockerd.log'), 'a');
    const dir = this.#dir;
    // A dockerd without a bridge deletes docker0 in its network namespace: in the host's, the shared engine's would go.
    this.#process = spawn(
      'unshare',
      [
        '--net',
        'dockerd',
        `--host=${this.host}`,
        `--data-root=${path.join(dir, 'data')}`,
        `--exec-root=${path.join(dir, 'exec')}`,
        `--pidfile=${path.join(dir, 'docker.pid')}`,
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
      ],
      { stdio: ['ignore', log, log] },
    );
    const exited = once(this.#process, 'exit');
    await Promise.race([
      waitFor(
        () =>
          this.docker.ping().then(
            () => true,
            () => false,
          ),
        'the private dockerd to answer',
        60_000,
        200,
      ),
      exited.then(() => {
        throw new Error(`the private dockerd exited:\n${this.log().slice(-2000)}`);
      }),
    ]);
  }

  /** Stops the engine as an operator would (SIGTERM; its containers stop with it); resolves once it is gone. */
  async stop(): Promise<void> {
    const running = this.#process;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGTERM');
    await exitOf(running, 'the private dockerd to stop on SIGTERM', { timeoutMs: 120_000, log: () => this.log() });
  }

  /** Copies an image of the shared engine into this one. */
  async loadImage(name: string): Promise<void> {
    const image = await sharedEngine.getImage(name).get();
    const loading = await this.docker.loadImage(image);
    loading.resume();
    await within(once(loading, 'end'), 300_000, `the private dockerd to load ${name}`);
    await this.docker.getImage(name).inspect();
  }

  log(): string {
    return readFileSync(path.join(this.#dir, 'dockerd.log'), 'utf8');
  }
}
