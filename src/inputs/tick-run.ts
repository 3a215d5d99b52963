import type { InputConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import type { HostMode } from '../hosts/host-mode.js';
import type { OutputSet } from '../outputs/running-output.js';
import type { PointPipeline } from '../points/pipeline.js';
import type { DecodeResult } from '../points/tasks.js';
import { HostFailure, type FailureReason } from '../protocol/host-failure.js';
import type { RunSink } from '../protocol/host-session.js';
import type { CollectorInfo, DoneMessage } from '../protocol/messages.js';
import type { Clock } from '../scheduler/clock.js';
import { formatBytes } from '../schema/units.js';
import type { InputEvents } from '../telemetry/events/input-events.js';
import type { Metrics } from '../telemetry/metrics.js';
import { deliverPoints, type PointsDestination } from './deliver-points.js';
import { ReportFlow } from './report-flow.js';
import { tickUsage, type TickOutcome } from './tick-outcome.js';

/** Report messages of one run decoded or delivered at once (see ReportFlow). */
const REPORTS_IN_FLIGHT = 4;

/** Cut collector-controlled text to a size a log line and an API field can carry. */
const clip = (text: string, max = 2000): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/** What a run has used of its input's bounds so far (in this interval, for a service). */
interface Used {
  reportBytes: number;
  outputBytes: number;
  points: number;
}

const nothingUsed = (): Used => ({ reportBytes: 0, outputBytes: 0, points: 0 });

/** The keys of an input's config a run reads, as they were when it started. */
export type RunLimits = Pick<InputConfig, 'timeout' | 'max_points' | 'max_report_size' | 'max_stderr' | 'tags' | 'globalTags'>;

export interface TickRunOptions {
  input: string;
  collector: CollectorInfo;
  limits: RunLimits;
  pipeline: PointPipeline;
  outputs: Pick<OutputSet, 'deliver'>;
  metrics: Metrics;
  events: InputEvents;
  /** The scheduler's: the timeout and a service's intervals are on it. */
  clock: Clock;
}

/**
 * One run of one collector on its input's hosts, from the request to its
 * outcome: the sink its host's messages go to (reports into the point
 * pipeline and on to the outputs, output lines into the log), the bounds it
 * is held to (max_points, max_report_size, max_stderr, per tick or, for a
 * service, per interval), its timeout, and how it ended. A bound crossed, the
 * timeout or stop() aborts it: its host is killed and the run fails with why.
 */
export class TickRun {
  readonly #input: string;
  readonly #collector: CollectorInfo;
  readonly #limits: RunLimits;
  readonly #pipeline: PointPipeline;
  /** Where its points go: the outputs, then their bytes back to the workers. */
  readonly #destination: PointsDestination;
  readonly #events: InputEvents;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  /** `timeout = "0"`: a service, whose run may never end; its bounds count per interval and it has no timeout. */
  readonly #service: boolean;
  /** Each report's way to the outputs; a settled one is dropped, so a service's run does not pile them up. */
  readonly #flow: ReportFlow;
  readonly #abort = new AbortController();
  readonly #sink: RunSink;
  /** Why the run was aborted: the first bound crossed, its timeout, or stop(). */
  #breach: HostFailure | undefined;
  /** Whether the host's part is over: stop() does nothing then (a bound can still be crossed by reports being decoded). */
  #hostDone = false;
  #used = nothingUsed();
  #points = 0;
  #reportBytes = 0;
  #invalid = 0;
  readonly #invalidErrors: string[] = [];
  #timeout: unknown;
  #window: unknown;

  constructor(options: TickRunOptions) {
    this.#input = options.input;
    this.#collector = options.collector;
    this.#limits = options.limits;
    this.#pipeline = options.pipeline;
    this.#destination = { pipeline: options.pipeline, outputs: options.outputs, metrics: options.metrics };
    this.#events = options.events;
    this.#clock = options.clock;
    this.#intervalMs = options.collector.interval * 1000;
    this.#service = options.limits.timeout === 0;
    this.#flow = new ReportFlow({ inWorkers: Math.max(1, options.pipeline.workers - 1), inFlight: REPORTS_IN_FLIGHT });
    this.#sink = {
      report: (line) => this.#report(line),
      log: (message) => {
        if (this.#breach || !this.#chargeOutput(message.text.length)) return;
        this.#events.runOutput(this.#collector.id, message.stream, clip(message.text, 4096));
      },
      stderr: (bytes) => void this.#chargeOutput(bytes),
    };
  }

  /**
   * Runs the collector on `mode` (once) and tells how it went, once its
   * reports are through to the outputs. Never rejects for what the host or
   * the collector did: that is the outcome.
   */
  async on(mode: Pick<HostMode, 'run'>): Promise<TickOutcome> {
    if (this.#service) this.#nextWindow();
    let done: DoneMessage | undefined;
    let failure: unknown;
    try {
      done = await mode.run(this.#collector.id, this.#sink, this.#abort.signal, {
        // A service that has run for an interval is healthy: a later death restarts it without waiting.
        healthyAfterMs: this.#service ? this.#intervalMs : undefined,
        running: () => this.#running(),
      });
    } catch (err) {
      failure = err;
    } finally {
      this.#hostDone = true;
      this.#clock.clearTimeout(this.#timeout);
      this.#clock.clearTimeout(this.#window);
    }
    await this.#flow.drained();
    return this.#outcome(done, failure);
  }

  /** Ends the run from outside (`overlap = "kill"`, shutdown): its host is killed and it ends with `reason`. Nothing once its host is done with it. */
  stop(reason: FailureReason, message: string): void {
    if (!this.#hostDone) this.#fail(reason, message);
  }

  #fail(reason: FailureReason, message: string): void {
    if (this.#breach) return;
    this.#breach = new HostFailure(reason, message);
    this.#abort.abort(this.#breach);
  }

  /** The host has the run: the timeout counts from now, since starting a host first is bounded apart (the load timeout). */
  #running(): void {
    if (this.#service) return;
    const timeoutMs = this.#limits.timeout ?? this.#intervalMs;
    this.#timeout = this.#clock.setTimeout(() => this.#fail('timeout', `still running after ${timeoutMs / 1000} s (timeout)`), timeoutMs);
  }

  /** A service's bounds start again every interval. */
  #nextWindow(): void {
    this.#used = nothingUsed();
    this.#window = this.#clock.setTimeout(() => this.#nextWindow(), this.#intervalMs);
  }

  /** What the bounds count: a service's run never ends, so its bounds count per interval. */
  get #per(): string {
    return this.#service ? 'interval' : 'tick';
  }

  #report(line: Buffer): void | Promise<void> {
    if (this.#breach) return;
    this.#used.reportBytes += line.length;
    this.#reportBytes += line.length;
    const max = this.#limits.max_report_size;
    if (this.#used.reportBytes > max) return this.#fail('max_report_size', `reported more than ${formatBytes(max)} in one ${this.#per} (max_report_size)`);
    const decoded = this.#pipeline.decodeReport(line, { tags: this.#limits.tags, globalTags: this.#limits.globalTags });
    return this.#flow.add(
      decoded,
      decoded.then((result) => this.#accept(result)),
    );
  }

  /** A report decoded: its invalid points counted, its valid ones within max_points to the outputs. */
  #accept(result: DecodeResult): Promise<void> | undefined {
    if (this.#breach) return undefined;
    if (result.invalid > 0) {
      this.#invalid += result.invalid;
      for (const error of result.errors) if (this.#invalidErrors.length < 5) this.#invalidErrors.push(error);
      if (this.#service) this.#events.serviceInvalidPoints(this.#collector.id, result.invalid, result.errors);
      else this.#events.invalidPoints(result.invalid);
    }
    const max = this.#limits.max_points;
    if (this.#used.points + result.points > max) {
      this.#fail('max_points', `reported more than ${max} points in one ${this.#per} (max_points)`);
      return undefined;
    }
    this.#used.points += result.points;
    this.#points += result.points;
    // Points an output could not keep are counted (dropped) and logged by that output.
    return deliverPoints(this.#input, result.batches, this.#destination).then(() => undefined);
  }

  /** Counts `bytes` of output (log lines, raw stderr) against max_stderr; false once past it. */
  #chargeOutput(bytes: number): boolean {
    this.#used.outputBytes += bytes;
    const max = this.#limits.max_stderr;
    if (this.#used.outputBytes <= max) return true;
    this.#fail('max_stderr', `wrote more than ${formatBytes(max)} of output in one ${this.#per} (max_stderr)`);
    return false;
  }

  #outcome(done: DoneMessage | undefined, failure: unknown): TickOutcome {
    const base = { durationMs: 0, points: this.#points, reportBytes: this.#reportBytes, runMs: done?.run_ms, usage: done && tickUsage(done.usage) };
    const breach = this.#breach;
    // A service that ran until pythond stopped did its job.
    if (breach?.reason === 'shutdown') return { ...base, status: 'ok' };
    if (breach) return { ...base, status: breach.reason === 'timeout' ? 'timeout' : 'error', reason: breach.reason, error: breach.message };
    if (failure) {
      const reason = failure instanceof HostFailure ? failure.reason : 'host_start';
      return { ...base, status: 'error', reason, error: errorMessage(failure) };
    }
    if (done!.status === 'error') {
      return { ...base, status: 'error', reason: 'exception', error: clip(done!.error ?? 'run() raised'), traceback: done!.traceback };
    }
    if (this.#invalid > 0) {
      return {
        ...base,
        status: 'error',
        reason: 'invalid_points',
        error: `${this.#invalid} invalid point(s) dropped: ${this.#invalidErrors.join('; ')}`,
      };
    }
    return { ...base, status: 'ok' };
  }
}
