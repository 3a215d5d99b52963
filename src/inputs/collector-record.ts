import type { CollectorInfo } from '../protocol/messages.js';
import type { Clock } from '../scheduler/clock.js';
import type { Metrics } from '../telemetry/metrics.js';
import { CollectorHealth, HEALTH_STATES, type HealthState, type QuarantinePolicy } from './collector-health.js';
import { tickExit, type TickExit, type TickOutcome, type TickStatus } from './tick-outcome.js';

/** How many of a collector's last ticks the status API keeps: the status page draws them. */
export const RECENT_TICKS = 30;

/** What the status API shows for one collector. */
export interface CollectorState {
  input: string;
  collector: string;
  name: string;
  interval: number;
  state: 'idle' | 'running' | 'failing';
  /** Its failure state (see CollectorHealth). */
  health: HealthState;
  /** Failed ticks in a row. */
  consecutiveFailures: number;
  /** While backing off or quarantined: its ticks due before this are skipped. */
  retryAt?: string;
  runs: number;
  failures: number;
  lastRun?: string;
  lastStatus?: TickStatus;
  lastExit?: TickExit;
  lastDurationMs?: number;
  /** CPU time of its last tick, when it was measured (see the mode). */
  lastCpuMs?: number;
  lastPeakMemoryBytes?: number;
  lastPoints?: number;
  lastReportBytes?: number;
  lastSuccess?: string;
  lastError?: string;
  /** The Python traceback of the last failure, when run() raised. */
  lastTraceback?: string;
  /** Its last ticks that ran, oldest first. */
  recentTicks: { durationMs: number; exit: TickExit }[];
  /** Unset while a service runs: it is looked at again only once it has ended. */
  nextRun?: string;
  host?: string;
  /** The image its host runs in (docker). */
  image?: string;
  /** Set for the collectors of an input with `timeout = "0"`, whose one run is meant to last. */
  service?: true;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Everything known of one collector of a running input: its counts, its last
 * tick and recent ones, its failure state, and the metrics that show them.
 */
export class CollectorRecord {
  readonly health: CollectorHealth;
  readonly #state: CollectorState;
  readonly #metrics: Metrics;
  readonly #labels: { input: string; collector: string };
  readonly #clock: Clock;
  /** The failure state its gauge shows; undefined once retired (another version of its input shows it, or it is gone). */
  #shown: HealthState | undefined;
  #retired = false;

  constructor(options: {
    input: string;
    collector: CollectorInfo;
    service: boolean;
    metrics: Metrics;
    quarantine: () => QuarantinePolicy;
    /** The scheduler's: due times and pauses are on it. */
    clock: Clock;
  }) {
    const { input, collector } = options;
    this.#labels = { input, collector: collector.id };
    this.#metrics = options.metrics;
    this.#clock = options.clock;
    this.health = new CollectorHealth({ intervalMs: collector.interval * 1000, policy: options.quarantine });
    this.#state = {
      input,
      collector: collector.id,
      name: collector.name,
      interval: collector.interval,
      state: 'idle',
      health: 'healthy',
      consecutiveFailures: 0,
      runs: 0,
      failures: 0,
      recentTicks: [],
      ...(options.service ? { service: true as const } : {}),
    };
    this.publish();
  }

  /** A tick starts; a service's next due time means nothing while it runs. */
  running(): void {
    this.#state.state = 'running';
    if (this.#state.service) this.#state.nextRun = undefined;
  }

  /** The scheduler plans its next tick at `epochMs`. */
  planned(epochMs: number): void {
    if (!(this.#state.service && this.#state.state === 'running')) this.#state.nextRun = new Date(epochMs).toISOString();
  }

  /** Counts a tick that ran, due at `dueAt` (clock time), and moves its failure state. */
  recorded(outcome: TickOutcome, dueAt: number): void {
    const labels = this.#labels;
    const exit = tickExit(outcome);
    const metrics = this.#metrics;
    metrics.ticks.inc({ ...labels, status: outcome.status });
    metrics.tickExits.inc({ ...labels, exit });
    metrics.tickDuration.observe(labels, outcome.durationMs / 1000);
    metrics.tickPoints.observe(labels, outcome.points);
    metrics.tickReportBytes.observe(labels, outcome.reportBytes);
    const { cpuSeconds, peakMemoryBytes } = outcome.usage ?? {};
    if (cpuSeconds !== undefined) metrics.tickCpu.observe(labels, cpuSeconds);
    if (peakMemoryBytes !== undefined) metrics.tickPeakMemory.observe(labels, peakMemoryBytes);

    const now = new Date();
    const state = this.#state;
    state.runs++;
    state.lastRun = now.toISOString();
    state.lastStatus = outcome.status;
    state.lastExit = exit;
    state.lastDurationMs = round(outcome.durationMs, 2);
    state.lastCpuMs = cpuSeconds === undefined ? undefined : round(cpuSeconds * 1000, 2);
    state.lastPeakMemoryBytes = peakMemoryBytes;
    state.lastPoints = outcome.points;
    state.lastReportBytes = outcome.reportBytes;
    state.recentTicks = [...state.recentTicks.slice(1 - RECENT_TICKS), { durationMs: state.lastDurationMs, exit }];
    state.state = outcome.status === 'ok' ? 'idle' : 'failing';
    if (outcome.status === 'ok') {
      this.health.succeeded();
      state.lastSuccess = state.lastRun;
      if (!this.#retired) metrics.collectorLastSuccess.set(labels, now.getTime() / 1000);
    } else {
      // A service that ran for an interval was healthy until it ended: its failure starts a new streak (as its host's backoff does).
      if (state.service && outcome.durationMs >= state.interval * 1000) this.health.succeeded();
      this.health.failed(dueAt);
      state.failures++;
      state.lastError = outcome.error;
      state.lastTraceback = outcome.traceback;
    }
    this.#showHealth();
  }

  /** Its state, with its input's current host and that host's image. */
  status(host: string | undefined, image: string | undefined): CollectorState {
    return { ...this.#state, recentTicks: [...this.#state.recentTicks], host, image };
  }

  /** Shows its failure state in the gauge, whatever it showed (a version it replaces may have written it meanwhile). */
  publish(): void {
    this.#shown = undefined;
    this.#showHealth();
  }

  /**
   * Another version of its input shows this collector from now on (`gone`:
   * none does, its input was removed or the new version has no such
   * collector, so its gauges go). Its last ticks no longer touch them.
   */
  retire(gone: boolean): void {
    this.#retired = true;
    if (!gone) return;
    for (const state of HEALTH_STATES) this.#metrics.collectorState.remove({ ...this.#labels, state });
    this.#metrics.collectorLastSuccess.remove(this.#labels);
  }

  /** Its failure state in the status, and in the gauge when it changed (a gauge write costs microseconds a tick need not pay). */
  #showHealth(): void {
    const { state, failures, retryAt } = this.health;
    this.#state.health = state;
    this.#state.consecutiveFailures = failures;
    this.#state.retryAt = retryAt === undefined ? undefined : new Date(Date.now() + retryAt - this.#clock.now()).toISOString();
    if (this.#retired || state === this.#shown) return;
    this.#shown = state;
    for (const each of HEALTH_STATES) this.#metrics.collectorState.set({ ...this.#labels, state: each }, each === state ? 1 : 0);
  }
}
