import type { Logger } from '../logger.js';
import { HostFailure, type RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';
import { Backoff } from './backoff.js';
import type { Executor, HostLauncher } from './executor.js';
import { HostConnection } from './host-connection.js';

export interface HostOptions {
  /** The input's max_report_size: the longest protocol line accepted. */
  maxLine: number;
  /** The input's max_stderr: output logged between runs. */
  maxStray: number;
  log: Logger;
  /** A host went away other than by close(): for metrics. */
  onHostLost(reason: string): void;
  backoff?: Backoff;
}

/**
 * One long-lived host per input: collector instances (and their state) live
 * across ticks. A host that dies or is killed is started again at the next
 * tick, with backoff when it keeps failing.
 */
export class WarmExecutor implements Executor {
  readonly #launcher: HostLauncher;
  readonly #options: HostOptions;
  readonly #backoff: Backoff;
  readonly #runs = new Map<string, HostConnection>();
  #current: Promise<HostConnection> | undefined;
  #hello: HelloMessage | undefined;
  #hostId: string | undefined;
  #closing = false;

  constructor(launcher: HostLauncher, options: HostOptions) {
    this.#launcher = launcher;
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
  }

  get hostId(): string | undefined {
    return this.#hostId;
  }

  async start(): Promise<HelloMessage> {
    await this.#connection();
    return this.#hello!;
  }

  backoffRemaining(): number {
    return this.#backoff.remaining();
  }

  async run(runId: string, collectorId: string, sink: RunSink): Promise<DoneMessage> {
    if (this.#closing) throw new HostFailure('shutdown', 'pythond is shutting down');
    const connection = await this.#connection();
    connection.runStarting();
    this.#runs.set(runId, connection);
    try {
      const done = await connection.session.run(runId, collectorId, sink);
      this.#backoff.succeeded();
      return done;
    } finally {
      this.#runs.delete(runId);
    }
  }

  async abort(runId: string, failure: HostFailure): Promise<void> {
    await this.#runs.get(runId)?.kill(failure, runId);
  }

  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    const current = await this.#current?.catch(() => undefined);
    if (!current) return;
    current.session.end();
    const timer = setTimeout(() => void current.kill(new HostFailure('shutdown', `did not finish within ${graceMs} ms of shutdown`)), graceMs);
    await current.gone;
    clearTimeout(timer);
  }

  #connection(): Promise<HostConnection> {
    this.#current ??= this.#connect();
    return this.#current;
  }

  async #connect(): Promise<HostConnection> {
    const log = this.#options.log;
    let connection: HostConnection | undefined;
    try {
      const streams = await this.#launcher.launch();
      connection = new HostConnection(streams, {
        maxLine: this.#options.maxLine,
        maxStray: this.#options.maxStray,
        log,
        onBroken: (failure) => void connection?.kill(failure),
      });
      this.#hello = await connection.hello();
      this.#hostId = connection.id;
      log.info({ host: connection.id, collectors: this.#hello.collectors.map((c) => c.id) }, `collector host ${connection.id} started (${this.#launcher.kind})`);
    } catch (err) {
      this.#current = undefined;
      this.#backoff.failed();
      throw err;
    }
    const started = connection;
    void started.gone.then((reason) => {
      if (this.#closing) return;
      this.#current = undefined;
      this.#hostId = undefined;
      this.#backoff.failed();
      this.#options.onHostLost(reason);
    });
    return started;
  }
}
