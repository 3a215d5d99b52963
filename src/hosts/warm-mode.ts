import type { HostFailure } from '../protocol/host-failure.js';
import type { RunSink } from '../protocol/host-session.js';
import type { DoneMessage, HelloMessage } from '../protocol/messages.js';
import type { HostConnection } from './host-connection.js';
import { HostModeBase, type RunOptions } from './host-mode.js';

/**
 * One long-lived host per input: collector instances (and their state) live
 * across ticks. A host that fails is dropped at once (killed in the
 * background) and a new one starts at the next tick, with backoff when it
 * keeps failing.
 */
export class WarmMode extends HostModeBase {
  /** The run's own: the host and its other collectors were there before the tick and stay after it. */
  protected readonly usageScope = 'run';
  #live: HostConnection | undefined;
  #starting: Promise<HostConnection> | undefined;
  /** Hosts being killed: close() waits for them, so none outlives the runner. */
  readonly #dying = new Set<Promise<unknown>>();
  #hello: HelloMessage | undefined;

  get hostId(): string | undefined {
    return this.#live?.id;
  }

  async start(): Promise<HelloMessage> {
    await this.#connection();
    return this.#hello!;
  }

  async run(collectorId: string, sink: RunSink, signal: AbortSignal, options?: RunOptions): Promise<DoneMessage> {
    const connection = await this.#connection();
    connection.runStarting();
    return this.runOn(connection, collectorId, sink, signal, options);
  }

  async close(graceMs: number): Promise<void> {
    this.closing = true;
    const live = this.#live ?? (await this.#starting?.catch(() => undefined));
    await live?.close(graceMs);
    await Promise.all(this.#dying);
  }

  #connection(): Promise<HostConnection> {
    if (this.#live) return Promise.resolve(this.#live);
    this.#starting ??= this.#connect().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #connect(): Promise<HostConnection> {
    const connection = await this.open();
    this.#hello = await connection.hello();
    this.#live = connection;
    void connection.failed.then((failure) => this.#lost(connection, failure));
    this.log.info(
      { host: connection.id, collectors: this.#hello.collectors.map((c) => c.id) },
      `collector host ${connection.id} started (${this.runtimeKind})`,
    );
    return connection;
  }

  /** The host can serve no more runs: forget it now, make sure it dies, count it. */
  #lost(connection: HostConnection, failure: HostFailure): void {
    if (this.#live !== connection) return;
    this.#live = undefined;
    const dying = connection.gone;
    this.#dying.add(dying);
    void dying.finally(() => this.#dying.delete(dying));
    if (this.closing) return;
    this.backoff.failed();
    this.emit('hostLost', failure);
  }
}
