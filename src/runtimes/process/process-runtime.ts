import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasDependencies } from '../../config/dependencies.js';
import type { InputConfig } from '../../config/load.js';
import { PythondError } from '../../errors.js';
import { HOST_SCRIPT, hostArguments, SDK_CORE_DIR } from '../../protocol/host-command.js';
import type { HostExit } from '../../protocol/host-failure.js';
import { BuildError } from '../builds.js';
import { UNHEARD, type BuildListener, type Prepared, type Runtime, type RuntimeHost, type RuntimePlugin } from '../runtime.js';
import { VenvBuilder } from './venv-builder.js';

/** Time a host's leftover children get to close their copies of the pipes after the host exits. */
const PIPE_CLOSE_GRACE_MS = 2_000;

/**
 * Collector hosts as local python3 processes, each in a process group of its
 * own so a kill takes its children too. No isolation and no limits: this is
 * for machines without Docker.
 */
export const processRuntime: RuntimePlugin = {
  isolated: false,
  async open({ config, log }) {
    return new ProcessRuntime(config.runner.python_d, new VenvBuilder(path.join(config.runner.data_dir, 'venvs'), log));
  },
};

class ProcessRuntime implements Runtime {
  readonly kind = 'process';
  readonly #pythonD: string;
  readonly #venvs: VenvBuilder;
  /** Process groups alive now: removeAll() kills what is left of them. */
  readonly #groups = new Set<number>();

  constructor(pythonD: string, venvs: VenvBuilder) {
    this.#pythonD = pythonD;
    this.#venvs = venvs;
  }

  async prepare(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<Prepared | undefined> {
    if (input.dependencies.apt.length > 0) {
      throw new BuildError(
        `${input.key}.apt lists Debian packages, which pythond installs into the input's image: that needs the docker executor, and this runner uses the process executor; start Docker (executor = "auto" then uses it), or install them on this machine and leave apt out`,
        [],
      );
    }
    if (!hasDependencies(input.dependencies)) return undefined;
    return this.#venvs.prepare(input, listener, signal);
  }

  async start(input: InputConfig): Promise<RuntimeHost> {
    // Prepared already (RunningInput prepares before it starts hosts): then this looks at no file.
    const prepared = await this.prepare(input, UNHEARD, new AbortController().signal);
    const python = prepared ? path.join(prepared.name, 'bin', 'python') : input.cmd;
    const child = spawn(python, [path.join(SDK_CORE_DIR, HOST_SCRIPT), ...hostArguments(this.#pythonD, input.discovered)], {
      // python_d, as before; an input whose scripts all come from git repositories may have none: its first dir then.
      cwd: existsSync(this.#pythonD) ? this.#pythonD : input.discovered[0]!.folder,
      env: environment(input.envs),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    // Every way the child can end is listened to before anything is awaited: an 'error' with no listener would kill the runner.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const ended = new Promise<HostExit>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit ${code ?? 0}`)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      throw new PythondError(
        'HOST_START_FAILED',
        `cannot start the collector host with ${prepared ? `${python} (the virtual environment of its requirements)` : `${input.key}.cmd = ${JSON.stringify(input.cmd)}`}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    child.on('error', () => {}); // after spawn: a failed kill() or pipe write; the exit says the rest
    const pid = child.pid!;
    this.#groups.add(pid);
    const exited = ended.then(async (exit) => {
      this.#killGroup(pid); // children a collector left behind go with their host
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, PIPE_CLOSE_GRACE_MS).unref())]);
      return exit;
    });
    return {
      id: `pid ${pid}`,
      stdin: child.stdin!,
      channel: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: async () => {
        this.#killGroup(pid);
        await exited;
      },
    };
  }

  async removeAll(): Promise<void> {
    for (const pid of [...this.#groups]) this.#killGroup(pid);
  }

  #killGroup(pid: number): void {
    this.#groups.delete(pid);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
}

/**
 * A collector sees only what it needs, like DataKit's pythond which runs
 * `cmd` with exactly `envs`: PATH, HOME and LANG from the runner, then `envs`.
 */
function environment(envs: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    LANG: process.env.LANG ?? 'C.UTF-8',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  for (const entry of envs) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}
