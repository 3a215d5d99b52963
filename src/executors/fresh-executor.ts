import { HostFailure, type RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';
import { Backoff } from './backoff.js';
import type { Executor, HostLauncher } from './executor.js';
import { closeConnection, openConnection, type HostConnection } from './host-connection.js';
import type { HostOptions } from './warm-executor.js';

/**
 * A new host for every tick, gone when the tick is: nothing survives from
 * one run to the next. Costs a host start per tick.
 */
export class FreshExecutor implements Executor {
  readonly #launcher: HostLauncher;
  readonly #options: HostOptions;
  readonly #backoff: Backoff;
  readonly #runs = new Map<string, HostConnection>();
  /** Hosts whose run is done and that are exiting: a tick does not wait for them, close() does. */
  readonly #exiting = new Set<Promise<string>>();
  #closing = false;

  constructor(launcher: HostLauncher, options: HostOptions) {
    this.#launcher = launcher;
    this.#options = options;
    this.#backoff = options.backoff ?? new Backoff();
  }

  get hostId(): string | undefined {
    return undefined;
  }

  /** Starts one host just to learn which collectors the input has. */
  async start(): Promise<HelloMessage> {
    const connection = await this.#open();
    connection.session.end();
    await connection.gone;
    return connection.session.hello;
  }

  backoffRemaining(): number {
    return this.#backoff.remaining();
  }

  async run(runId: string, collectorId: string, sink: RunSink): Promise<DoneMessage> {
    if (this.#closing) throw new HostFailure('shutdown', 'pythond is shutting down');
    const connection = await this.#open();
    this.#runs.set(runId, connection);
    try {
      const done = connection.session.run(runId, collectorId, sink);
      connection.session.end(); // the host exits once this run is done
      const result = await done;
      this.#exiting.add(connection.gone);
      void connection.gone.finally(() => this.#exiting.delete(connection.gone));
      this.#backoff.succeeded();
      return result;
    } catch (err) {
      this.#backoff.failed();
      this.#options.onHostLost((err as HostFailure).reason ?? 'error');
      await connection.kill(err instanceof HostFailure ? err : new HostFailure('error', String(err)));
      throw err;
    } finally {
      this.#runs.delete(runId);
    }
  }

  async abort(runId: string, failure: HostFailure): Promise<void> {
    await this.#runs.get(runId)?.kill(failure, runId);
  }

  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#runs.values()].map((connection) => closeConnection(connection, graceMs)));
    await Promise.all(this.#exiting);
    await this.#launcher.close?.();
  }

  async #open(): Promise<HostConnection> {
    try {
      return await openConnection(this.#launcher, this.#options);
    } catch (err) {
      this.#backoff.failed();
      throw err;
    }
  }
}
