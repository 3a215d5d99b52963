import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { exitOf, type Exit } from './child-exit.js';
import { REPO_ROOT } from './fixtures.js';

export const MAIN = path.join(REPO_ROOT, 'dist/src/main.js');

/** Runs `pythond <args>` to completion. */
export function pythond(
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pythond ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `pythond run` started in the background. */
export interface Runner {
  child: ChildProcess;
  /** Its stderr so far. */
  log(): string;
  /** How it ended, once it has; a failure saying `what` did not happen past `timeoutMs` (see exitOf). */
  exited(what: string, timeoutMs?: number): Promise<Exit>;
  /** SIGTERM, then how it ended. */
  stop(): Promise<Exit>;
}

export function startRunner(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Runner {
  const child = spawn(process.execPath, [MAIN, 'run', ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  const exited = (what: string, timeoutMs?: number): Promise<Exit> => exitOf(child, what, { timeoutMs, log: () => log });
  return {
    child,
    log: () => log,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited('the runner to stop on SIGTERM');
    },
  };
}
