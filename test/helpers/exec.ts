import { spawn } from 'node:child_process';
import { REPO_ROOT } from './fixtures.js';

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects, with its output, when it fails or outlives `timeoutMs`. */
export function exec(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<Exited> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (code === 0 || options.allowFailure) resolve(result);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')}: ${signal ? `killed (${signal}) after ${timeoutMs} ms` : `exit ${code}`}\n${stderr.slice(-4000) || stdout.slice(-4000)}`,
          ),
        );
    });
  });
}
