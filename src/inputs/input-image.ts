import { Backoff } from '../backoff.js';
import { hasDependencies } from '../config/dependencies.js';
import type { InputConfig } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';
import { BuildError } from '../runtimes/builds.js';
import { UNHEARD, type Runtime } from '../runtimes/runtime.js';
import type { InputEvents } from '../telemetry/events/input-events.js';
import type { Metrics } from '../telemetry/metrics.js';

/**
 * An input's image as the status API shows it: while it is pulled (any
 * input), and the one built for its dependencies (with the process
 * executor, its virtual environment).
 */
export interface ImageStatus {
  state: 'pulling' | 'building' | 'ready' | 'failed';
  /** The image tag (pulling: the image pulled), or the virtual environment's folder. */
  tag?: string;
  /** Why the last build failed. */
  error?: string;
  /** The end of the failed build's output. */
  output?: string[];
}

/**
 * What the hosts of an input run in, made ready by its runtime before the
 * first host starts: its image, pulled as its `pull` says (docker), and for
 * an input with dependencies (`apt`, requirements.txt) the image or virtual
 * environment built for them: reused when nothing changed, built otherwise,
 * the build's output in the log and its state in the status API. A failed
 * pull is tried again after 5 s, doubling up to 5 minutes: a registry that
 * is away comes back. A failed build after a minute, doubling up to half an
 * hour: apt and pip are not worth hammering, and what mends a build (a
 * requirements.txt, a wheel) comes with a reload, which tries a new version
 * of the input at once.
 */
export class InputImage {
  readonly #input: InputConfig;
  readonly #runtime: Runtime;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #events: InputEvents;
  readonly #pullBackoff = new Backoff({ firstMs: 5_000, maxMs: 5 * 60_000 });
  readonly #buildBackoff = new Backoff({ firstMs: 60_000, maxMs: 30 * 60_000 });
  readonly #abort = new AbortController();
  /** Once ready: what the hosts run in (undefined: nothing of its own, the process executor's python3). */
  #prepared: { base?: string } | undefined;
  #status: ImageStatus | undefined;
  #waitBegan: () => void = () => {};
  /** Settles when a pull or a build begins (the image is not there, or nothing built earlier fits); never, when neither is needed. */
  readonly waiting = new Promise<void>((resolve) => (this.#waitBegan = resolve));

  constructor(options: { input: InputConfig; runtime: Runtime; log: Logger; metrics: Metrics; events: InputEvents }) {
    this.#input = options.input;
    this.#runtime = options.runtime;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#events = options.events;
  }

  /** Undefined for an input without dependencies, but while its image is pulled: it runs in that image as it is. */
  status(): ImageStatus | undefined {
    return this.#status && { ...this.#status };
  }

  /** Milliseconds before a failed pull or build may be tried again; 0 when it may now. */
  retryAfterMs(): number {
    return Math.max(this.#pullBackoff.remaining(), this.#buildBackoff.remaining());
  }

  /** Resolves once the input's hosts can start; rejects with why its image cannot be pulled or built. */
  async ready(): Promise<void> {
    if (this.#prepared) return;
    const input = this.#input;
    const own = hasDependencies(input.dependencies);
    const began = performance.now();
    try {
      const prepared = await this.#runtime.prepare(
        input,
        {
          pulling: (image) => {
            this.#status = { state: 'pulling', tag: image };
            this.#waitBegan();
          },
          building: (tag) => {
            this.#status = { state: 'building', tag };
            this.#log.info({ image: tag }, `input ${input.name}: building ${tag} (${contents(input)})`);
            this.#waitBegan();
          },
          output: (line) => this.#log.info({ image: this.#status?.tag }, line),
        },
        this.#abort.signal,
      );
      this.#prepared = { base: prepared?.base };
      this.#pullBackoff.succeeded();
      this.#buildBackoff.succeeded();
      if (!own) {
        this.#status = undefined;
        return;
      }
      this.#status = { state: 'ready', tag: prepared!.name };
      this.#metrics.imageBuilds.inc({ input: input.name, result: prepared!.built ? 'built' : 'reused' });
      if (prepared!.built) this.#log.info({ image: prepared!.name }, `input ${input.name}: built ${prepared!.name} in ${seconds(began)} s`);
      else this.#log.debug({ image: prepared!.name }, `input ${input.name}: ${prepared!.name} is up to date`);
    } catch (err) {
      // Logged by the input, as any failed start; a build's output went to the log line by line.
      const built = err instanceof BuildError;
      (built ? this.#buildBackoff : this.#pullBackoff).failed();
      if (built) this.#metrics.imageBuilds.inc({ input: input.name, result: 'failed' });
      // The input's error says why; an image of its own also says it here, with the build's output.
      this.#status = own ? { state: 'failed', tag: this.#status?.tag, error: errorMessage(err), output: built ? [...err.output] : [] } : undefined;
      throw err;
    }
  }

  /**
   * Whether the image of `next` (a new version of this input's config, with
   * `pull = "always"`) differs from the one the hosts run in now: its
   * registry is asked again. When it cannot be, that is said and counted,
   * and the input runs on with the image it has (false). Aborting `signal`
   * abandons the pull (pythond is stopping).
   */
  async moved(next: InputConfig, signal: AbortSignal): Promise<boolean> {
    const base = this.#prepared?.base;
    if (base === undefined || !this.#runtime.baseImage) return false;
    try {
      return (await this.#runtime.baseImage(next, UNHEARD, signal)) !== base;
    } catch (err) {
      if (!signal.aborted) this.#events.pullFailedAtReload(next.image, errorMessage(err));
      return false;
    }
  }

  /** Abandons a pull or build under way: the input is closing. */
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
