import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/** How often `pythond run` says in its log how many points came in and where they went. */
export const DELIVERY_LOG_EVERY_MS = 5 * 60_000;

/**
 * Says in the log, at info level, how many points each input produced and
 * what each output did with them since the last report. Read from the
 * counters /metrics shows, so the log and the metrics never disagree.
 */
export class DeliveryLog {
  readonly #metrics: Metrics;
  readonly #log: Logger;
  /** Each counter's value at the last report, by metric and labels. */
  readonly #seen = new Map<string, number>();
  #since: number;

  constructor(metrics: Metrics, log: Logger, now = Date.now()) {
    this.#metrics = metrics;
    this.#log = log;
    this.#since = now;
  }

  /** Logs one line: `points in the last 300 s: 1200 from demo, 34 from api; file[0] sent 1234`. */
  async report(now = Date.now()): Promise<void> {
    const inputs = new Map<string, number>();
    for (const { labels, value } of (await this.#metrics.points.get()).values) {
      const input = String(labels.input);
      inputs.set(input, (inputs.get(input) ?? 0) + this.#delta(`points ${input} ${labels.category}`, value));
    }
    const outputs = new Map<string, Map<string, number>>();
    for (const { labels, value } of (await this.#metrics.outputPoints.get()).values) {
      const output = String(labels.output);
      const counts = outputs.get(output) ?? new Map<string, number>();
      counts.set(String(labels.status), this.#delta(`output ${output} ${labels.status}`, value));
      outputs.set(output, counts);
    }
    const buffered = new Map((await this.#metrics.outputBuffer.get()).values.map(({ labels, value }) => [String(labels.output), value]));

    const period = `points in the last ${Math.round((now - this.#since) / 1000)} s`;
    this.#since = now;
    const from = [...inputs].filter(([, n]) => n > 0).map(([input, n]) => `${n} from ${input}`);
    const to = [...outputs].map(([output, counts]) => {
      const handled = ['sent', 'failed', 'dropped'].filter((status) => (counts.get(status) ?? 0) > 0).map((status) => `${status} ${counts.get(status)}`);
      if (buffered.get(output)) handled.push(`${buffered.get(output)} waiting in its buffer`);
      return { output, handled };
    });
    const said = (all: boolean): string[] =>
      to.filter(({ handled }) => all || handled.length > 0).map(({ output, handled }) => `${output} ${handled.join(', ') || 'sent 0'}`);
    // Without new points, an output may still have sent what it had buffered.
    const line = from.length > 0 ? `${period}: ${from.join(', ')}; ${said(true).join('; ')}` : [`no ${period}`, ...said(false)].join('; ');
    this.#log.info(line);
  }

  /** How much `value` grew since the last report. */
  #delta(key: string, value: number): number {
    const delta = value - (this.#seen.get(key) ?? 0);
    this.#seen.set(key, value);
    return delta;
  }
}
