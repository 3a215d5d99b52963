import type { FailureReason } from '../protocol/host-failure.js';
import type { RunUsage } from '../protocol/messages.js';

export type TickStatus = 'ok' | 'error' | 'timeout' | 'skipped';

/** Why a tick did not end ok: how its host failed, or what the collector did. Short and bounded: a metric label. */
export type TickReason = FailureReason | 'exception' | 'invalid_points' | 'backoff' | 'quarantined';

/** What one tick cost (see its mode's usage scope); a figure is absent when it could not be measured. */
export interface TickUsage {
  cpuSeconds?: number;
  peakMemoryBytes?: number;
}

/** A tick's usage from its host's figures. */
export function tickUsage(usage: RunUsage | undefined): TickUsage {
  return {
    ...(usage?.cpu_ms === undefined ? {} : { cpuSeconds: usage.cpu_ms / 1000 }),
    ...(usage?.peak_bytes === undefined ? {} : { peakMemoryBytes: usage.peak_bytes }),
  };
}

export interface TickOutcome {
  status: TickStatus;
  reason?: TickReason;
  /** What went wrong, for the operator. */
  error?: string;
  durationMs: number;
  /** The collector's own run() time, when it finished. */
  runMs?: number;
  points: number;
  /** Bytes of the report messages it sent. */
  reportBytes: number;
  /** What it cost, when its host said (its run finished: a host that was killed or died says nothing). */
  usage?: TickUsage;
  /** The Python traceback, when run() raised. */
  traceback?: string;
}

/**
 * How a tick that ran ended, in six words an operator can alert on (a
 * metric label): `ok`; `timeout`; `oom` (its host hit the memory limit);
 * `killed` (stopped by `overlap = "kill"`, by a signal, or with its host
 * because another run on it failed); `limit` (it crossed max_points,
 * max_report_size or max_stderr); `error` (anything else: run() raised,
 * invalid points, its host died or broke the protocol, could not start).
 */
export type TickExit = 'ok' | 'error' | 'timeout' | 'oom' | 'killed' | 'limit';

export const TICK_EXITS: readonly TickExit[] = ['ok', 'error', 'timeout', 'oom', 'killed', 'limit'];

export function tickExit(outcome: Pick<TickOutcome, 'status' | 'reason'>): TickExit {
  if (outcome.status === 'ok') return 'ok';
  const reason = outcome.reason ?? '';
  if (reason === 'timeout' || reason === 'oom') return reason;
  if (reason === 'max_points' || reason === 'max_report_size' || reason === 'max_stderr') return 'limit';
  // A container's main process killed with SIGKILL exits 137.
  if (reason === 'overlap' || reason === 'host_restart' || reason === 'exit 137' || reason.startsWith('signal ')) return 'killed';
  return 'error';
}
