import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/**
 * What goes wrong in the runtime collector hosts run in (`[runner]
 * executor`): each method is one event that says what happened in the log
 * and counts it on /metrics. Constructed with the logger of what it is about
 * (a container's has its `input` and `containerId`).
 */
export class RuntimeEvents {
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#metrics = metrics;
  }

  /** `executor = "auto"` found none of the isolating runtimes usable (`problems` says why each not) and took `kind`, which does not isolate. */
  fellBackUnisolated(kind: string, problems: readonly string[]): void {
    this.#metrics.runtimeErrors.inc({ reason: 'unisolated_fallback' });
    this.#log.warn(
      `executor = "auto": ${problems.join('; ')}. Falling back to the ${kind} executor: collectors run as plain python3 processes on this machine, WITHOUT isolation or resource limits`,
    );
  }

  /** Container `id` wrote what cannot be read as its output streams: it is killed, and its runs fail as lost. */
  containerUnreadable(id: string, err: unknown, message: string): void {
    this.#metrics.runtimeErrors.inc({ reason: 'container_stream' });
    this.#log.error({ err }, `container ${id}: ${message}; killing it`);
  }

  /** The engine cannot say how a container ended: its host is lost. */
  containerLost(message: string): void {
    this.#metrics.runtimeErrors.inc({ reason: 'container_lost' });
    this.#log.warn(`lost track of the container: ${message}`);
  }

  /** At stop, container `name` of this run was still there, and is removed. */
  leftBehind(name: string): void {
    this.#metrics.runtimeErrors.inc({ reason: 'left_behind' });
    this.#log.warn(`removed container ${name}, left behind by this run`);
  }
}
