import type { HostFailure } from '../protocol/host-failure.js';
import type { RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';
import type { HostConnection } from './host-connection.js';
import { HostModeBase, type RunOptions } from './host-mode.js';

/**
 * A new host for every tick, gone when the tick is: nothing survives from
 * one run to the next. Costs a host start per tick.
 */
export class FreshMode extends HostModeBase {
  /** The host's whole life, its start and imports included: that is what a fresh tick costs (its container's cgroup with docker). */
  protected readonly usageScope = 'host';
  readonly #live = new Set<HostConnection>();
  /** Hosts whose run is done and that are exiting: a tick does not wait for them, close() does. */
  readonly #exiting = new Set<Promise<unknown>>();

  get hostId(): string | undefined {
    return undefined;
  }

  /** Starts one host just to learn which collectors the input has. */
  async start(): Promise<HelloMessage> {
    const connection = await this.open();
    connection.session.end();
    await connection.gone;
    return connection.hello();
  }

  async run(collectorId: string, sink: RunSink, signal: AbortSignal, options?: RunOptions): Promise<DoneMessage> {
    const connection = await this.open(true);
    this.#live.add(connection);
    try {
      const done = this.runOn(connection, collectorId, sink, signal, options);
      connection.session.end(); // the host exits once this run is done
      const result = await done;
      this.#exiting.add(connection.gone);
      void connection.gone.finally(() => this.#exiting.delete(connection.gone));
      return result;
    } catch (err) {
      const failure = err as HostFailure; // a session rejects runs with nothing else
      this.backoff.failed();
      this.emit('hostLost', failure);
      await connection.kill(failure);
      throw err;
    } finally {
      this.#live.delete(connection);
    }
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    await Promise.all([...this.#live].map((connection) => connection.close(graceMs)));
    await Promise.all(this.#exiting);
  }
}
