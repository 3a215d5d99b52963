import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { within } from './fixtures.js';

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Generous for a loaded 2-core machine: a runner stops within its shutdown_timeout, 30 s by default. */
const EXIT_MS = 60_000;

/**
 * Resolves with how `child` ended, once it has. Past `timeoutMs` it kills
 * the child (SIGKILL), so that a regression does not hold the test file
 * open, and rejects saying that `what` did not happen, with the last lines
 * of `log()`.
 */
export async function exitOf(child: ChildProcess, what: string, options: { timeoutMs?: number; log?: () => string } = {}): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const { timeoutMs = EXIT_MS, log } = options;
  try {
    const [code, signal] = (await within(once(child, 'exit'), timeoutMs, what)) as [number | null, NodeJS.Signals | null];
    return { code, signal };
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const said = log?.().trimEnd().split('\n').slice(-20).join('\n');
    throw new Error(`${(err as Error).message}${said ? `; its last lines:\n${said}` : ''}`);
  }
}

/**
 * Stops `child` when a test is done with it: SIGTERM, then SIGKILL past
 * `graceMs`, since how fast it stops is not what the test checks. Rejects
 * only when even SIGKILL does not end it.
 */
export async function terminate(child: ChildProcess, what: string, options: { graceMs?: number; log?: () => string } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const { graceMs = 10_000, log } = options;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exitOf(child, `${what} to stop`, { timeoutMs: graceMs + EXIT_MS, log });
  } finally {
    clearTimeout(timer);
  }
}
