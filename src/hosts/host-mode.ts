import { EventEmitter } from 'node:events';
import { Backoff } from '../backoff.js';
import type { InputConfig } from '../config/load.js';
import type { InputEvents } from '../telemetry/events/input-events.js';
import type { Logger } from '../telemetry/logger.js';
import { HostFailure } from '../protocol/host-failure.js';
import type { RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage, LastErrorMessage, UsageScope } from '../protocol/messages.js';
import type { Runtime } from '../runtimes/runtime.js';
import { openConnection, type HostConnection } from './host-connection.js';
import type { HostStarts } from './host-starts.js';

export interface HostModeEvents {
  /** A host failed (killed, ended, broke the protocol) other than by close(): counted as a restart. */
  hostLost: [failure: HostFailure];
  /** A collector called set_lasterror(). */
  lastError: [message: LastErrorMessage];
}

/** What a run may ask of its mode beyond the run itself. */
export interface RunOptions {
  /** A run still going after this long counts as a success for the backoff (a service's run never finishes). */
  healthyAfterMs?: number;
  /**
   * Called once the host is up and has the run: a tick's timeout counts from
   * here, so a host that had to start first (fresh mode, or warm after a
   * loss) does not eat into it. Starting is bounded by the load timeout.
   */
  running?: () => void;
}

/**
 * How long the hosts of one `[[inputs.pythond]]` block live, over any
 * runtime: `warm` keeps one host across ticks, `fresh` starts one per tick.
 */
export interface HostMode extends EventEmitter<HostModeEvents> {
  /** Starts (or probes) a host and returns what it loaded. */
  start(): Promise<HelloMessage>;
  /**
   * Runs one collector once; resolves with its `done`, rejects with a
   * HostFailure. Aborting `signal` with a HostFailure (a timeout, a broken
   * limit) kills the run's host, and the run rejects with that failure.
   */
  run(collectorId: string, sink: RunSink, signal: AbortSignal, options?: RunOptions): Promise<DoneMessage>;
  /** Milliseconds before a host may be started again after failures; 0 when one may now. */
  backoffRemaining(): number;
  /** The current host, for the status API. */
  readonly hostId: string | undefined;
  /** The image its latest host ran in (docker), for the status API. */
  readonly image: string | undefined;
  /** Lets runs in flight finish (or kills them after `graceMs`), then stops every host. */
  close(graceMs: number): Promise<void>;
}

/** What warm and fresh share: starting hosts with backoff, run ids, aborts, shutdown. */
export abstract class HostModeBase extends EventEmitter<HostModeEvents> implements HostMode {
  protected readonly log: Logger;
  /**
   * One pace for the input's host starts, whoever asks: the first start
   * retried, a host that died restarted. A first failure is retried at once
   * (the next tick); then 1 s, doubling up to 5 min. A finished run resets it.
   */
  protected readonly backoff = new Backoff({ firstMs: 1_000, maxMs: 300_000, free: 1 });
  protected closing = false;
  readonly #input: InputConfig;
  readonly #runtime: Runtime;
  readonly #starts: HostStarts;
  readonly #events: InputEvents;
  #runIds = 0;
  #image: string | undefined;

  constructor(input: InputConfig, runtime: Runtime, log: Logger, starts: HostStarts, events: InputEvents) {
    super();
    this.#input = input;
    this.#runtime = runtime;
    this.#starts = starts;
    this.#events = events;
    this.log = log;
  }

  abstract readonly hostId: string | undefined;
  abstract start(): Promise<HelloMessage>;
  abstract run(collectorId: string, sink: RunSink, signal: AbortSignal, options?: RunOptions): Promise<DoneMessage>;
  abstract close(graceMs: number): Promise<void>;
  /**
   * What a run's `done` measures, which is what the tick cost: the run
   * alone when its host outlives it (warm), the host's whole life when it
   * lives for that run alone (fresh).
   */
  protected abstract readonly usageScope: UsageScope;

  backoffRemaining(): number {
    return this.backoff.remaining();
  }

  get image(): string | undefined {
    return this.#image;
  }

  /**
   * Starts a host of the input and waits for its hello; a failure counts
   * against the backoff. It waits its turn among the hosts starting (see
   * HostStarts) unless it is for a tick (`forTick`, fresh mode): a tick of
   * an input that is up does not wait for other inputs to start.
   */
  protected async open(forTick = false): Promise<HostConnection> {
    if (this.closing) throw new HostFailure('shutdown', 'pythond is shutting down');
    const open = () =>
      openConnection(() => this.#runtime.start(this.#input), {
        maxLine: this.#input.max_report_size,
        maxStray: this.#input.max_stderr,
        events: this.#events,
        onLastError: (message) => this.emit('lastError', message),
        secrets: this.#input.secrets,
      });
    try {
      const connection = await (forTick ? open() : this.#starts.run(open));
      this.#image = connection.image;
      return connection;
    } catch (err) {
      this.backoff.failed();
      throw err;
    }
  }

  /** Runs `collectorId` on `connection`; an abort of `signal` kills that host, failing the run with the abort's reason. */
  protected async runOn(
    connection: HostConnection,
    collectorId: string,
    sink: RunSink,
    signal: AbortSignal,
    { healthyAfterMs, running }: RunOptions = {},
  ): Promise<DoneMessage> {
    const runId = String(++this.#runIds);
    const abort = (): void => void connection.kill(signal.reason as HostFailure, runId);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    const healthy = healthyAfterMs === undefined ? undefined : setTimeout(() => this.backoff.succeeded(), healthyAfterMs);
    // What the collector prints and its traceback name the user's files, wherever the host sees them.
    const local: RunSink = { ...sink, log: (message) => sink.log({ ...message, text: connection.localize(message.text) }) };
    try {
      const answered = connection.session.run(runId, collectorId, local, this.usageScope);
      running?.();
      const done = await answered;
      this.backoff.succeeded();
      return done.status === 'ok'
        ? done
        : { ...done, error: done.error && connection.localize(done.error), traceback: done.traceback && connection.localize(done.traceback) };
    } finally {
      clearTimeout(healthy);
      signal.removeEventListener('abort', abort);
    }
  }

  protected get runtimeKind(): string {
    return this.#runtime.kind;
  }
}
