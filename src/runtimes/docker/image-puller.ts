import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { readRegistryAuth, type RegistryCredentials } from '../../config/registry-auth.js';
import type { PullPolicy } from '../../config/schema.js';
import { PythondError, errorMessage } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { DockerEngine } from './docker-engine.js';
import { PullProgress, type PullEvent } from './pull-progress.js';

/** The collector image `npm run images` builds (docker/build-images.sh), and the default `[runner] image`: no registry has it. */
export const SHIPPED_IMAGE = 'pythond-python:3';

/** A pull's progress goes to the log at most this often (the engine reports every chunk of every layer). */
const PROGRESS_EVERY_MS = 5_000;

/** One pull under way, shared by every input waiting for the same image; abandoned once none waits any more. */
interface SharedPull {
  id: Promise<string>;
  abort: AbortController;
  waiters: number;
}

/**
 * Gets images onto the engine from their registries, as each input's `pull`
 * says: `missing` pulls an image that is not there, `always` pulls it
 * whether it is there or not, `never` only looks. The image `npm run
 * images` builds is never pulled (no registry has it). A pull logs its
 * progress every few seconds, counts its result in
 * `pythond_image_pulls_total`, sends the registry's credentials from
 * `[runner] registry_auth`, and fails with the image, the registry and what
 * the registry (or the engine) answered; the input retries it with backoff.
 */
export class ImagePuller {
  readonly #engine: DockerEngine;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #registryAuth: string | undefined;
  readonly #pulls = new Map<string, SharedPull>();

  constructor(options: { engine: DockerEngine; log: Logger; metrics: Metrics; registryAuth: string | undefined }) {
    this.#engine = options.engine;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#registryAuth = options.registryAuth;
  }

  /** The id of `image` on the engine, pulled first if `policy` says so (`pulling` is told then); rejects saying why it is not there. */
  async ensure(image: string, policy: PullPolicy, pulling: (image: string) => void, signal: AbortSignal): Promise<string> {
    const pullable = policy !== 'never' && image !== SHIPPED_IMAGE;
    if (policy !== 'always' || !pullable) {
      const id = await this.#engine.imageId(image);
      if (id !== undefined) return id;
      if (!pullable) throw missingImage(image);
    }
    pulling(image);
    return this.#shared(image, signal);
  }

  /** The pull of `image` under way, or a new one; this caller stops waiting when `signal` aborts. */
  #shared(image: string, signal: AbortSignal): Promise<string> {
    let pull = this.#pulls.get(image);
    if (!pull) {
      const abort = new AbortController();
      const id = this.#pull(image, abort.signal).finally(() => this.#pulls.delete(image));
      id.catch(() => {}); // its waiters see the error; with none left, nobody needs it
      pull = { id, abort, waiters: 0 };
      this.#pulls.set(image, pull);
    }
    const shared = pull;
    shared.waiters++;
    return untilAborted(shared.id, signal).finally(() => {
      if (--shared.waiters === 0) shared.abort.abort();
    });
  }

  async #pull(image: string, signal: AbortSignal): Promise<string> {
    const registry = registryOf(image) ?? (await this.#engine.defaultRegistry());
    const log = this.#log.child({ image });
    const began = performance.now();
    const fail = (why: string, cause?: unknown): PythondError => {
      this.#metrics.imagePulls.inc({ result: 'failed' });
      return new PythondError('IMAGE_PULL_FAILED', `cannot pull image ${image} from ${registry}: ${why}`, { cause });
    };
    let credentials: RegistryCredentials | undefined;
    try {
      credentials = this.#registryAuth === undefined ? undefined : readRegistryAuth(this.#registryAuth).get(registry);
    } catch (err) {
      throw fail(`registry_auth: ${errorMessage(err)}`, err);
    }
    log.info(`pulling image ${image} from ${registry}${credentials ? ` as ${credentials.username ?? 'its identity token'}` : ''}`);
    const progress = new PullProgress(PROGRESS_EVERY_MS, began);
    try {
      const stream = (await this.#engine.docker.pull(image, { authconfig: credentials, abortSignal: signal })) as Readable;
      for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
        if (!line.trim()) continue;
        const said = progress.take(JSON.parse(line) as PullEvent, performance.now());
        if (said) log.info(`pulling image ${image}: ${said}`);
      }
    } catch (err) {
      if (signal.aborted) throw abandoned();
      throw fail(this.#answer(err, registry, credentials), err);
    }
    if (progress.error !== undefined) throw fail(this.#answer(new Error(progress.error), registry, credentials));
    const id = await this.#engine.imageId(image);
    if (id === undefined) throw fail('the engine said the pull went through, but has no such image');
    const outcome = progress.outcome ?? 'pulled';
    this.#metrics.imagePulls.inc({ result: outcome });
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    if (outcome === 'pulled') log.info(`pulled image ${image} in ${seconds} s (${progress.describe()}): ${shortId(id)}`);
    else log.debug(`image ${image} is up to date with ${registry} (${shortId(id)}, asked in ${seconds} s)`);
    return id;
  }

  /** What the registry or the engine answered, and, when that is a refusal, what credentials went with the pull. */
  #answer(err: unknown, registry: string, credentials: RegistryCredentials | undefined): string {
    const answer = ((err as { json?: { message?: string } }).json?.message ?? errorMessage(err)).trim();
    if (!/unauthorized|authentication required|no basic auth|denied|forbidden/i.test(answer)) return answer;
    const sent =
      this.#registryAuth === undefined
        ? 'no registry_auth is set'
        : credentials
          ? `registry_auth ${this.#registryAuth} has credentials for ${registry}, sent with the pull`
          : `registry_auth ${this.#registryAuth} has none for ${registry}`;
    return `${answer} (${sent})`;
  }
}

/**
 * The registry host an image reference names (`127.0.0.1:5000/team/x:1` →
 * `127.0.0.1:5000`), as the engine reads it; undefined when it names none
 * (the engine's default registry).
 */
export function registryOf(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** An image that is not on the engine and will not be pulled: how to get it there. */
export function missingImage(image: string): PythondError {
  const how =
    image === SHIPPED_IMAGE
      ? `no registry has it: build it with \`npm run images\` (no registry needed), or where a registry is reachable set image = "python:3-slim" (pulled at start) or build it with \`docker build -t ${image} docker/python\``
      : `pull = "never": \`docker pull ${image}\` or build it, correct the image name, or set pull = "missing" to have it pulled`;
  return new PythondError('IMAGE_MISSING', `image ${image} is not on the Docker engine; ${how}`);
}

const abandoned = (): PythondError => new PythondError('IMAGE_PULL_FAILED', 'the pull was abandoned (pythond is stopping, or the input was removed)');

const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** `promise`, or a rejection once `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abandoned());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abandoned());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
