import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/**
 * What happens at the HTTP API. Each method is one event: it says what
 * happened in the log and counts it on /metrics, so an operator who alerts
 * on the metrics misses nothing the log says is wrong.
 */
export class HttpEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** A request was answered `code`; `route` is its pattern, or "unmatched". */
  answered(route: string, code: number): void {
    this.#metrics.httpRequests.inc({ route, code: String(code) });
  }

  /** A request failed inside pythond: it is answered 5xx, which `answered` counts under its code. */
  failed(method: string, url: string, err: Error): void {
    this.#log.error({ err, url }, `HTTP API: ${method} ${url} failed: ${err.message}`);
  }

  /** POST /v1/write refused a body that this runner's own datakit output forwarded: sending it on would loop for ever. */
  writeLooped(remote: string): void {
    this.#metrics.writeApiRejected.inc({ reason: 'loop' });
    this.#log.warn({ remote }, `refused a write this runner forwarded itself (a datakit output aimed at this runner's own API): it would loop forever`);
  }

  /** POST /v1/write refused a body whose points cannot be taken (`reason`: WriteRejection's); `client` is the client's `?input=` name. */
  writeRejected(reason: string, request: { category: string; client: string; remote: string }, message: string): void {
    this.#metrics.writeApiRejected.inc({ reason });
    this.#log.warn(request, `write to /v1/write/${request.category} refused: ${message.split('\n', 2).join(' ')}`);
  }

  /** An external collector reported its last error (POST /v1/lasterror). */
  lasterrorReported(input: string, error: string): void {
    this.#metrics.lasterrorReports.inc();
    this.#log.warn({ input }, `external collector ${input} reported an error: ${error}`);
  }
}
