import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InputConfig } from '../../config/load.js';
import type { Logger } from '../../telemetry/logger.js';
import { BuildError, BuildOutput, buildKey, outdatedBuilds } from '../builds.js';
import { pipInstallArguments, pipProblem, UNREACHABLE_INDEX } from '../pip.js';
import { UNHEARD, type BuildListener, type Prepared } from '../runtime.js';

/** Written last into a virtual environment: without it, the environment is a build that did not finish. */
const COMPLETE = '.pythond-complete';

/**
 * The virtual environments of inputs with requirements, for the process
 * executor: `<data_dir>/venvs/<input>/<key>`, the key covering the input's
 * interpreter (path and version) and everything its requirements install,
 * so one made earlier is reused. Made by the input's own `cmd -m venv
 * --system-site-packages` (its collectors still see what that python3 has)
 * and pip (that python3's, else ensurepip's), which reads no pip.conf and no PIP_*
 * variable: pythond's keys alone say where packages come from, as in an
 * image build.
 */
export class VenvBuilder {
  readonly #root: string;
  readonly #log: Logger;
  /** The environment each input config runs in, once ready: a fresh tick's start looks at no file. */
  readonly #ready = new WeakMap<InputConfig, string>();
  /** The environment each input (by name) was last made ready with: kept when its next one is built. */
  readonly #last = new Map<string, string>();

  constructor(root: string, log: Logger) {
    this.#root = root;
    this.#log = log;
  }

  /** The python3 of `input`'s environment: found, or made now. */
  async prepare(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<Prepared> {
    const ready = this.#ready.get(input);
    if (ready) return { name: ready, built: false };
    // The interpreter is part of the key: a new python3 gets a new environment.
    const probe = new BuildOutput(UNHEARD);
    const interpreter = await run(input.cmd, ['-c', 'import sys; print(sys.executable, sys.version)'], probe, signal);
    if (interpreter.code !== 0) throw failed(input, `${input.key}.cmd = ${JSON.stringify(input.cmd)} cannot be run: ${interpreter.error}`, probe);
    const parent = path.join(this.#root, folderName(input.name));
    const venv = path.join(parent, buildKey(interpreter.stdout.trim(), input));
    const built = !existsSync(path.join(venv, COMPLETE));
    if (built) {
      listener.building(venv);
      try {
        await this.#build(input, venv, new BuildOutput(listener), signal);
      } catch (err) {
        rmSync(venv, { recursive: true, force: true });
        throw err;
      }
      this.#removeOutdated(input.name, parent, venv);
    }
    this.#ready.set(input, venv);
    this.#last.set(input.name, venv);
    return { name: venv, built };
  }

  async #build(input: InputConfig, venv: string, output: BuildOutput, signal: AbortSignal): Promise<void> {
    rmSync(venv, { recursive: true, force: true });
    mkdirSync(path.dirname(venv), { recursive: true });
    const created = await run(input.cmd, ['-m', 'venv', '--system-site-packages', '--without-pip', venv], output, signal);
    if (created.code !== 0) throw failed(input, `\`${input.cmd} -m venv\` cannot make a virtual environment (${created.error})`, output);
    const python = path.join(venv, 'bin', 'python');
    // pip: the interpreter's own when it has one (the environment sees its packages), else one ensurepip installs (seconds more).
    const hasPip = (await run(python, ['-m', 'pip', '--version'], new BuildOutput(UNHEARD), signal)).code === 0;
    const ensured = hasPip ? undefined : await run(python, ['-m', 'ensurepip', '--default-pip'], output, signal);
    if (ensured && ensured.code !== 0) {
      throw failed(input, `${input.cmd} has no pip, and no ensurepip to install one (${ensured.error}; on Debian: apt-get install python3-venv)`, output);
    }
    // The requirements as the config read them: the key names these, not whatever the files hold by now.
    const requirements = input.dependencies.requirements.map(({ text }, i) => {
      const file = path.join(venv, `pythond-requirements-${i}.txt`);
      writeFileSync(file, text);
      return file;
    });
    const log = path.join(venv, 'pip.log');
    const pip = pipInstallArguments(input.dependencies, { requirements, wheels: input.dependencies.findLinks?.folder, log });
    const installed = await run(python, ['-m', 'pip', ...pip], output, signal);
    if (installed.code !== 0) {
      // pip's output does not say an index was unreachable; its log does.
      const logged = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
      for (const line of logged) if (line.includes(UNREACHABLE_INDEX)) output.write(`${line}\n`);
      throw failed(input, pipProblem(output.tail(), input.dependencies) ?? `pip failed (${installed.error})`, output);
    }
    writeFileSync(path.join(venv, COMPLETE), '');
  }

  /** The input's environments but `current` and the one before it (see outdatedBuilds); unfinished ones (a crashed build) whatever their age. */
  #removeOutdated(input: string, parent: string, current: string): void {
    const completedAt = (folder: string): number | undefined => statSync(path.join(folder, COMPLETE), { throwIfNoEntry: false })?.mtimeMs;
    const folders = readdirSync(parent).map((name) => path.join(parent, name));
    const complete = folders.filter((folder) => completedAt(folder) !== undefined);
    const unfinished = folders.filter((folder) => folder !== current && completedAt(folder) === undefined);
    for (const folder of [...outdatedBuilds(complete, current, this.#last.get(input), (f) => completedAt(f)!), ...unfinished]) {
      rmSync(folder, { recursive: true, force: true });
      this.#log.info({ input, venv: folder }, `removed virtual environment ${folder} of input ${input} (its last two are kept)`);
    }
  }
}

/** A folder per input: readable, and distinct for names that read the same once cleaned. */
function folderName(input: string): string {
  const readable = input.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60);
  return `${readable}-${createHash('sha256').update(input).digest('hex').slice(0, 8)}`;
}

function failed(input: InputConfig, why: string, output: BuildOutput): BuildError {
  return new BuildError(`${input.key}: cannot make the virtual environment of input ${input.name}: ${why}`, output.tail());
}

/**
 * The runner's environment for pip, without anything that would make pip
 * look elsewhere than the config says: no pip.conf, no PIP_* variable.
 * Proxy and CA variables stay.
 */
function pipEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PIP_')));
  return { ...env, PIP_CONFIG_FILE: os.devNull, PYTHONDONTWRITEBYTECODE: '1' };
}

/** Runs a command to its end, its output to `output`; stdout is returned too. Aborting `signal` kills it. */
function run(command: string, args: string[], output: BuildOutput, signal: AbortSignal): Promise<{ code: number | null; stdout: string; error: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: pipEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' });
    let stdout = '';
    let error = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      output.write(chunk.toString());
    });
    child.stderr.on('data', (chunk: Buffer) => output.write(chunk.toString()));
    child.on('error', (err) => {
      error = signal.aborted ? 'abandoned (pythond is stopping, or the input was removed)' : err.message;
      // A command that never started has no 'close' to wait for.
      if (child.pid === undefined) resolve({ code: null, stdout, error });
    });
    child.on('close', (code, killedBy) => resolve({ code, stdout, error: error || (killedBy ? `killed by ${killedBy}` : `exit ${code}`) }));
  });
}
