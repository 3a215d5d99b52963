import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { OutputCheckContext } from '../../config/load.js';
import { PythondError } from '../../errors.js';
import type { EncodedBatch } from '../../points/point.js';
import { listenAddress, parseListen } from '../../schema/addresses.js';
import { duration, FieldError, integer, optional, withDefault, type Field, type TableOf } from '../../schema/fields.js';
import type { Output, OutputContext, OutputDetails } from '../output.js';
import type { ExpositionSettings, FromThread, ToThread } from './thread-messages.js';

const urlPath: Field<string> = {
  read(value) {
    if (typeof value !== 'string' || !/^\/[^\s?#]*$/.test(value)) throw new FieldError(`must be a URL path such as "/metrics", got ${JSON.stringify(value)}`);
    return value;
  },
};

export const prometheusOutputSchema = () => ({
  listen: withDefault(listenAddress('127.0.0.1:9273'), '127.0.0.1:9273'),
  path: withDefault(urlPath, '/metrics'),
  /** Default: twice the longest collector interval, at least a minute. */
  expiration: optional(duration(1_000)),
  max_series: withDefault(integer(1, 100_000_000), 100_000),
});

export type PrometheusOptions = TableOf<ReturnType<typeof prometheusOutputSchema>>;

/** The endpoint must not take the runner's own port. */
export function checkPrometheusOptions(options: PrometheusOptions, runner: OutputCheckContext): { key: string; message: string }[] {
  const own = parseListen(runner.listen);
  const mine = parseListen(options.listen);
  const anyHost = (host: string): boolean => host === '0.0.0.0' || host === '::' || host === '';
  if (own.port !== mine.port || (own.host !== mine.host && !anyHost(own.host) && !anyHost(mine.host))) return [];
  return [
    {
      key: 'listen',
      message: `is the runner's own HTTP API address (runner.listen = ${JSON.stringify(runner.listen)}); give the endpoint a port of its own, such as 9273`,
    },
  ];
}

/** The default expiration: twice the longest collector interval, and at least a minute. */
const MIN_EXPIRATION_MS = 60_000;
/** How often the default expiration follows the collectors' intervals (they come and go with reloads). */
const FOLLOW_INTERVALS_EVERY_MS = 10_000;

const THREAD_ENTRY = new URL('./exposition-thread.js', import.meta.url);

/**
 * An endpoint Prometheus scrapes (Telegraf's prometheus_client): the latest
 * sample of every series reported, with its timestamp, in the text format or
 * OpenMetrics. The series live in a thread of their own, which also serves
 * the scrapes, so the main thread only hands it each batch's bytes.
 */
export class PrometheusOutput implements Output {
  readonly encoding = 'exposition' as const;
  readonly #options: PrometheusOptions;
  readonly #context: OutputContext;
  #thread: Worker | undefined;
  #exited: Error | undefined;
  #follow: NodeJS.Timeout | undefined;
  #expirationMs = MIN_EXPIRATION_MS;
  #series = 0;

  constructor(options: PrometheusOptions, context: OutputContext) {
    this.#options = options;
    this.#context = context;
  }

  /** Starts the thread and resolves once it listens; rejects, naming the address, when it cannot. */
  async start(): Promise<void> {
    this.#expirationMs = this.#defaultExpiration();
    const settings: ExpositionSettings = {
      listen: this.#options.listen,
      path: this.#options.path,
      maxSeries: this.#options.max_series,
      expirationMs: this.#expirationMs,
    };
    const thread = new Worker(THREAD_ENTRY, { workerData: settings });
    this.#thread = thread;
    thread.on('error', (err) => (this.#exited = err));
    thread.on('exit', (code) => (this.#exited ??= new PythondError('OUTPUT_FAILED', `the exposition thread of ${this.#options.listen} ended (exit ${code})`)));
    const [first] = (await Promise.race([once(thread, 'message'), once(thread, 'exit')])) as [FromThread | number];
    if (typeof first !== 'object' || first.type !== 'listening') {
      await thread.terminate();
      throw new PythondError(
        'OUTPUT_FAILED',
        typeof first === 'object' && first.type === 'failed' ? first.message : `the exposition thread of ${this.#options.listen} ended before it listened`,
      );
    }
    thread.on('message', (message: FromThread) => this.#heard(message));
    if (this.#options.expiration === undefined) this.#follow = setInterval(() => this.#followIntervals(), FOLLOW_INTERVALS_EVERY_MS).unref();
  }

  async write(batch: EncodedBatch): Promise<void> {
    if (this.#exited || !this.#thread) throw this.#exited ?? new PythondError('OUTPUT_FAILED', 'the prometheus output is not started');
    this.#post({ type: 'samples', bytes: batch.exposition! });
  }

  details(): OutputDetails {
    return { target: `http://${this.#options.listen}${this.#options.path}`, series: this.#series };
  }

  async close(): Promise<void> {
    clearInterval(this.#follow);
    const thread = this.#thread;
    this.#thread = undefined;
    if (!thread || this.#exited) return;
    const closed = once(thread, 'exit');
    this.#post({ type: 'close' }, thread);
    // Its listener is closed once it says so; the thread then has nothing to keep it.
    await Promise.race([closed, new Promise<void>((resolve) => thread.on('message', (message: FromThread) => message.type === 'closed' && resolve()))]);
    await thread.terminate();
  }

  #post(message: ToThread, thread = this.#thread): void {
    thread?.postMessage(message);
  }

  #heard(message: FromThread): void {
    if (message.type !== 'series') return;
    this.#series = message.series;
    this.#context.events?.seriesHeld(message.series, message.heapBytes);
    if (message.evicted > 0) this.#context.events?.seriesEvicted(message.evicted, this.#options.max_series);
    if (message.expired > 0) this.#context.events?.seriesExpired(message.expired);
  }

  #defaultExpiration(): number {
    return this.#options.expiration ?? Math.max(MIN_EXPIRATION_MS, 2 * (this.#context.longestIntervalMs?.() ?? 0));
  }

  #followIntervals(): void {
    const ms = this.#defaultExpiration();
    if (ms === this.#expirationMs) return;
    this.#expirationMs = ms;
    this.#post({ type: 'expiration', ms });
  }
}
