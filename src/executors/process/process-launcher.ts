import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { PythondError } from '../../errors.js';
import type { HostLauncher, HostStreams } from '../executor.js';
import { HOST_SCRIPT, SDK_CORE_DIR } from '../sdk.js';

export interface ProcessLauncherOptions {
  /** The Python interpreter (`cmd`). */
  cmd: string;
  pythonD: string;
  /** Absolute paths of the input's dirs. */
  dirs: string[];
  /** `NAME=value` entries (`envs`). */
  envs: string[];
  /** Where `cmd` comes from, for the error when it cannot start. */
  configKey: string;
}

/** Time a host's leftover children get to close their copies of the pipes after the host exits. */
const PIPE_CLOSE_GRACE_MS = 2_000;

/**
 * Starts the collector host as a local python3 process, in a process group
 * of its own so a kill takes its children too. No isolation: this is for
 * machines without Docker.
 */
export class ProcessLauncher implements HostLauncher {
  readonly kind = 'process';
  readonly #options: ProcessLauncherOptions;

  constructor(options: ProcessLauncherOptions) {
    this.#options = options;
  }

  async launch(): Promise<HostStreams> {
    const { cmd, pythonD, dirs, envs, configKey } = this.#options;
    const child = spawn(cmd, [path.join(SDK_CORE_DIR, HOST_SCRIPT), '--root', pythonD, ...dirs], {
      cwd: pythonD,
      env: environment(envs),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const closed = once(child, 'close');
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      throw new PythondError('HOST_START_FAILED', `cannot start the collector host with ${configKey}.cmd = ${JSON.stringify(cmd)}: ${(err as Error).message}`, { cause: err });
    }
    const pid = child.pid!;
    const killGroup = (): void => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const exited = once(child, 'exit').then(async ([code, signal]) => {
      killGroup(); // children a collector left behind go with their host
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, PIPE_CLOSE_GRACE_MS).unref())]);
      return signal ? `signal ${signal as string}` : `exit ${code as number}`;
    });
    return {
      id: `pid ${pid}`,
      stdin: child.stdin!,
      channel: child.stdout!,
      stderr: child.stderr!,
      exited,
      kill: async () => {
        killGroup();
        await exited;
      },
    };
  }
}

/**
 * A collector sees only what it needs, like DataKit's pythond which runs
 * `cmd` with exactly `envs`: PATH, HOME and LANG from the runner, then `envs`.
 */
function environment(envs: string[]): NodeJS.ProcessEnv {
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
