import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, type TestContext } from 'node:test';
import Docker from 'dockerode';
import { docker as sharedEngine } from './docker.js';
import { waitFor } from './fixtures.js';

/**
 * A Docker engine of the test's own, so a test can stop and start it: its
 * own socket, data root, exec root and pid file, and a bridge of its own
 * without iptables rules, so the shared engine's docker0 and state stay
 * untouched. (`--bridge=none` would not do: dockerd then deletes an
 * existing docker0, the shared engine's.) Its data survives stop/start, as
 * a real engine's does.
 */
export class PrivateDockerd {
  readonly host: string;
  readonly docker: Docker;
  readonly #dir: string;
  readonly #bridge: string;
  #process: ChildProcess | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#bridge = `pdk${path
      .basename(dir)
      .slice(-6)
      .replace(/[^a-zA-Z0-9]/g, '')}`;
    this.host = `unix://${path.join(dir, 'docker.sock')}`;
    this.docker = new Docker({ socketPath: path.join(dir, 'docker.sock') });
  }

  /**
   * Starts one, removed after the test file. Needs root and dockerd: skipped
   * with the reason elsewhere, failing in CI.
   */
  static async start(t: TestContext): Promise<PrivateDockerd | undefined> {
    if (process.getuid?.() !== 0) {
      const why = 'needs root to start a Docker engine of its own';
      if (process.env.CI === 'true') throw new Error(why);
      t.skip(why);
      return undefined;
    }
    // Short: containerd's socket path under the exec root must stay below 108 bytes.
    const engine = new PrivateDockerd(mkdtempSync('/tmp/pdk-'));
    after(async () => {
      await engine.stop();
      spawnSync('ip', ['link', 'del', engine.#bridge]);
      rmSync(engine.#dir, { recursive: true, force: true });
    });
    // A bridge in a test network (RFC 5737's are too small; a /24 of 10.213/16 is ours).
    for (const args of [
      ['link', 'add', 'name', engine.#bridge, 'type', 'bridge'],
      ['addr', 'add', `10.213.${Math.floor(Math.random() * 250) + 1}.1/24`, 'dev', engine.#bridge],
      ['link', 'set', engine.#bridge, 'up'],
    ]) {
      const ip = spawnSync('ip', args, { encoding: 'utf8' });
      if (ip.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${ip.stderr || ip.error?.message}`);
    }
    await engine.resume();
    return engine;
  }

  /** Starts (again) the engine on its data; resolves once it answers. */
  async resume(): Promise<void> {
    const log = openSync(path.join(this.#dir, 'dockerd.log'), 'a');
    const dir = this.#dir;
    this.#process = spawn(
      'dockerd',
      [
        `--host=${this.host}`,
        `--data-root=${path.join(dir, 'data')}`,
        `--exec-root=${path.join(dir, 'exec')}`,
        `--pidfile=${path.join(dir, 'docker.pid')}`,
        `--bridge=${this.#bridge}`,
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
    const exited = once(running, 'exit');
    running.kill('SIGTERM');
    await exited;
  }

  /** Copies an image of the shared engine into this one. */
  async loadImage(name: string): Promise<void> {
    const image = await sharedEngine.getImage(name).get();
    const loading = await this.docker.loadImage(image);
    loading.resume();
    await once(loading, 'end');
    await this.docker.getImage(name).inspect();
  }

  log(): string {
    return readFileSync(path.join(this.#dir, 'dockerd.log'), 'utf8');
  }
}
