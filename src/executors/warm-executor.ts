import { HostFailure, type RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';
import { Backoff } from './backoff.js';
import type { Executor, HostLauncher } from './executor.js';
import { closeConnection, openConnection, type ConnectionOptions, type HostConnection } from './host-connection.js';

export interface HostOptions extends ConnectionOptions {
  /** A host failed (killed, exited, broke the protocol) other than by close(): for metrics. */
  onHostLost(reason: string): void;
  backoff?: Backoff;
}

/**
 * One long-lived host per input: collector instances (and their state) live
 * across ticks. A host that fails is dropped at once (its process or
 * container is killed in the background) and a new one starts at the next
 * tick, with backoff when it keeps failing.
 */
export class WarmExecutor implements Executor {
  readonly #launcher: HostLauncher;
  readonly #options: HostOptions;
  readonly #backoff: Backoff;
  readonly #runs = new Map<string, HostConnection>();
  #live: HostConnection | undefined;
  /** Hosts being killed: close() waits for them, so none outlives the runner. */
  readonly #dying = new Set<Promise<void>>();
  #starting: Promise<HostConnection> | undefined;
  #hello: HelloMessage | undefined;
  #closing = false;

  constructor(launcher: HostLauncher, options: HostOptions) {
    this.#launcher = launcher;
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
  }

  get hostId(): string | undefined {
    return this.#live?.id;
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
    const live = this.#live ?? (await this.#starting?.catch(() => undefined));
    if (live) await closeConnection(live, graceMs);
    await Promise.all(this.#dying);
    await this.#launcher.close?.();
  }

  #connection(): Promise<HostConnection> {
    if (this.#live) return Promise.resolve(this.#live);
    this.#starting ??= this.#connect().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #connect(): Promise<HostConnection> {
    let connection: HostConnection;
    try {
      connection = await openConnection(this.#launcher, { ...this.#options, onFailed: (failed, failure) => this.#lost(failed, failure) });
    } catch (err) {
      this.#backoff.failed();
      throw err;
    }
    this.#hello = await connection.session.hello;
    this.#live = connection;
    this.#options.log.info({ host: connection.id, collectors: this.#hello.collectors.map((c) => c.id) }, `collector host ${connection.id} started (${this.#launcher.kind})`);
    return connection;
  }

  /** The host can serve no more runs: forget it now, make sure it dies, count it. */
  #lost(connection: HostConnection, failure: HostFailure): void {
    if (this.#live !== connection) return; // failed while starting: #connect counts that
    this.#live = undefined;
    const dying = connection.kill(failure);
    this.#dying.add(dying);
    void dying.finally(() => this.#dying.delete(dying));
    if (this.#closing) return;
    this.#backoff.failed();
    this.#options.onHostLost(failure.reason);
  }
}
