import { Backoff } from '../backoff.js';
import { hasDependencies } from '../config/dependencies.js';
import type { InputConfig } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { BuildError } from '../runtimes/builds.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { Metrics } from '../telemetry/metrics.js';

/** An input's image as the status API shows it; with the process executor, its virtual environment. */
export interface ImageStatus {
  state: 'building' | 'ready' | 'failed';
  /** The image tag, or the virtual environment's folder. */
  tag?: string;
  /** Why the last build failed. */
  error?: string;
  /** The end of the failed build's output. */
  output?: string[];
}

/**
 * What the hosts of an input with dependencies (`apt`, requirements.txt)
 * run in, made ready by its runtime before the first host starts: reused
 * when nothing changed, built otherwise, the build's output in the log and
 * its state in the status API. A failed build is tried again after a
 * minute, doubling up to half an hour: apt and pip are not worth
 * hammering, and what mends a build (a requirements.txt, a wheel) comes
 * with a reload, which tries a new version of the input at once.
 */
export class InputImage {
  readonly #input: InputConfig;
  readonly #runtime: Runtime;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #backoff = new Backoff({ firstMs: 60_000, maxMs: 30 * 60_000 });
  readonly #abort = new AbortController();
  #status: ImageStatus | undefined;
  #buildBegan: () => void = () => {};
  /** Settles when a build begins (nothing built earlier fits); never, when none is needed. */
  readonly building = new Promise<void>((resolve) => (this.#buildBegan = resolve));

  constructor(options: { input: InputConfig; runtime: Runtime; log: Logger; metrics: Metrics }) {
    this.#input = options.input;
    this.#runtime = options.runtime;
    this.#log = options.log;
    this.#metrics = options.metrics;
  }

  /** Undefined for an input without dependencies: it runs in its base as it is. */
  status(): ImageStatus | undefined {
    return this.#status && { ...this.#status };
  }

  /** Milliseconds before a failed build may be tried again; 0 when it may now. */
  retryAfterMs(): number {
    return this.#backoff.remaining();
  }

  /** Resolves once the input's hosts can start; rejects with why its image cannot be built. */
  async ready(): Promise<void> {
    const input = this.#input;
    if (this.#status?.state === 'ready' || !hasDependencies(input.dependencies)) return;
    const began = performance.now();
    try {
      const prepared = await this.#runtime.prepare(
        input,
        {
          building: (tag) => {
            this.#status = { state: 'building', tag };
            this.#log.info({ image: tag }, `input ${input.name}: building ${tag} (${contents(input)})`);
            this.#buildBegan();
          },
          output: (line) => this.#log.info({ image: this.#status?.tag }, line),
        },
        this.#abort.signal,
      );
      this.#status = { state: 'ready', tag: prepared!.name };
      this.#backoff.succeeded();
      this.#metrics.imageBuilds.inc({ input: input.name, result: prepared!.built ? 'built' : 'reused' });
      if (prepared!.built) this.#log.info({ image: prepared!.name }, `input ${input.name}: built ${prepared!.name} in ${seconds(began)} s`);
      else this.#log.debug({ image: prepared!.name }, `input ${input.name}: ${prepared!.name} is up to date`);
    } catch (err) {
      // Logged by the input, as any failed start; the build's output went to the log line by line.
      this.#backoff.failed();
      this.#status = { state: 'failed', tag: this.#status?.tag, error: errorMessage(err), output: err instanceof BuildError ? [...err.output] : [] };
      this.#metrics.imageBuilds.inc({ input: input.name, result: 'failed' });
      throw err;
    }
  }

  /** Abandons a build under way: the input is closing. */
  close(): void {
    this.#abort.abort();
  }
}

/** `apt: sysstat; requirements: python.d/x/requirements.txt`, for the log. */
function contents({ dependencies }: InputConfig): string {
  return [
    ...(dependencies.apt.length > 0 ? [`apt: ${dependencies.apt.join(', ')}`] : []),
    ...(dependencies.requirements.length > 0 ? [`requirements: ${dependencies.requirements.map(({ file }) => displayPath(file)).join(', ')}`] : []),
  ].join('; ');
}

const seconds = (since: number): string => ((performance.now() - since) / 1000).toFixed(1);
