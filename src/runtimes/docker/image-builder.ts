import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { InputConfig } from '../../config/load.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { BuildError, BuildOutput, buildKey, outdatedBuilds } from '../builds.js';
import { pipProblem } from '../pip.js';
import type { BuildListener, Prepared } from '../runtime.js';
import type { DockerEngine } from './docker-engine.js';
import { aptProblem, imageRecipe, type ImageRecipe } from './image-recipe.js';
import { containerLabels, LABEL_BUILD, LABEL_INPUT, LABEL_INSTANCE, LABEL_MANAGED } from './labels.js';

/**
 * The images of inputs with dependencies, built through the engine's API
 * from a context made here (no Docker CLI, no registry: FROM the id of the
 * base, pulled already as the input's `pull` says). Each is tagged `pythond-input/<name>:<key>`, the key covering
 * everything that went in (base image id, apt packages, requirements,
 * wheels), so an image with the tag is reused as it is, by this runner
 * and by `pythond check --input` alike. An image carries the instance of
 * the runner that built it: after a build, that runner removes its
 * images of the input but the last two, never another runner's.
 */
export class ImageBuilder {
  readonly #engine: DockerEngine;
  readonly #instance: string;
  readonly #log: Logger;
  /** The image each input (by name) was last made ready with: kept when its next one is built. */
  readonly #last = new Map<string, string>();

  constructor(options: { engine: DockerEngine; instance: string; log: Logger }) {
    this.#engine = options.engine;
    this.#instance = options.instance;
    this.#log = options.log;
  }

  /** The image of `input` over the image `baseId`: found, or built now. */
  async prepare(input: InputConfig, baseId: string, listener: BuildListener, signal: AbortSignal): Promise<Prepared> {
    // Per input: concurrent builds of other inputs never touch each other's leftovers.
    const build = createHash('sha256').update(input.name).digest('hex').slice(0, 16);
    const recipe = imageRecipe(baseId, build, input);
    const tag = `${repository(input.name)}:${buildKey(recipe.dockerfile, input)}`;
    const built = (await this.#engine.imageId(tag)) === undefined;
    if (built) {
      listener.building(tag);
      // What an abandoned build left (its step still running when it was removed after it) goes now.
      await this.#removeLeftovers(build);
      try {
        await this.#build(input, tag, recipe, listener, signal);
      } finally {
        await this.#removeLeftovers(build);
      }
      await this.#removeOutdated(input.name, tag);
    }
    this.#last.set(input.name, tag);
    return { name: tag, built, base: baseId };
  }

  async #build(input: InputConfig, tag: string, recipe: ImageRecipe, listener: BuildListener, signal: AbortSignal): Promise<void> {
    const output = new BuildOutput(listener);
    let failure: string | undefined;
    let step: string | undefined;
    try {
      const stream = await this.#engine.docker.buildImage(packContext(recipe), {
        t: tag,
        labels: containerLabels(this.#instance, input.name),
        rm: true,
        forcerm: true,
        abortSignal: signal,
      });
      failure = await followBuild(stream, output, (container) => (step = container));
    } catch (err) {
      failure = signal.aborted ? 'the build was abandoned (pythond is stopping, or the input was removed)' : errorMessage(err);
    }
    if (failure === undefined) return;
    // The engine removes the failed step's container after the build's end: gone now, its image can go too (see removeLeftovers).
    if (step)
      await this.#engine.docker
        .getContainer(step)
        .remove({ force: true })
        .catch(() => {});
    const tail = output.tail();
    const why = pipProblem(tail, input.dependencies) ?? aptProblem(tail) ?? failure;
    throw new BuildError(`${input.key}: cannot build image ${tag} for input ${input.name}: ${why}`, tail);
  }

  /** The first stage of a build, and the steps of a failed one: untagged images nothing else needs. */
  async #removeLeftovers(build: string): Promise<void> {
    const leftovers = await this.#engine.docker.listImages({ filters: { dangling: ['true'], label: [`${LABEL_BUILD}=${build}`] } });
    await this.#engine.removeImages(leftovers.map((image) => image.Id));
  }

  /** The input's images but `current` and the one before it (see outdatedBuilds). */
  async #removeOutdated(input: string, current: string): Promise<void> {
    const images = await this.#engine.docker.listImages({
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${this.#instance}`, `${LABEL_INPUT}=${input}`] },
    });
    const byTag = new Map(images.flatMap((image) => (image.RepoTags ?? []).map((tag) => [tag, image] as const)));
    const outdated = outdatedBuilds([...byTag.keys()], current, this.#last.get(input), (tag) => byTag.get(tag)!.Created);
    const removed = new Set(await this.#engine.removeImages(outdated.map((tag) => byTag.get(tag)!.Id)));
    for (const tag of outdated.filter((tag) => removed.has(byTag.get(tag)!.Id))) {
      this.#log.info({ input, image: tag }, `removed image ${tag} of input ${input} (its last two are kept)`);
    }
  }
}

/**
 * An input's images in one repository of their own: the name lowercased,
 * anything Docker does not take in a repository name replaced. Two names
 * that read the same here still get their own images (the key holds the
 * name itself).
 */
function repository(input: string): string {
  const name = input
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100);
  return `pythond-input/${name || 'input'}`;
}

/** The build context as a tar stream; wheels are streamed from disk, not held in memory. */
function packContext(recipe: ImageRecipe): Readable {
  const pack = tar.pack();
  const fill = async (): Promise<void> => {
    pack.entry({ name: 'Dockerfile' }, recipe.dockerfile);
    for (const folder of recipe.folders) pack.entry({ name: folder, type: 'directory' });
    for (const file of recipe.files) {
      if ('text' in file) {
        pack.entry({ name: file.name }, file.text);
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: file.name, size: statSync(file.path).size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(file.path).on('error', reject).pipe(entry);
      });
    }
    pack.finalize();
  };
  fill().catch((err) => pack.destroy(err));
  return pack;
}

/**
 * Reads the engine's build stream to its end: each line of output to
 * `output`, each step's container to `onStep`; resolves with the engine's
 * error, if the build failed.
 */
async function followBuild(stream: NodeJS.ReadableStream, output: BuildOutput, onStep: (container: string) => void): Promise<string | undefined> {
  let failure: string | undefined;
  for await (const line of createInterface({ input: stream as Readable, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as { stream?: string; status?: string; error?: string; errorDetail?: { message?: string } };
    const step = event.stream && /^ ---> Running in ([0-9a-f]+)/.exec(event.stream)?.[1];
    if (step) onStep(step);
    if (event.stream) output.write(event.stream);
    else if (event.status) output.write(`${event.status}\n`);
    if (event.error) failure = event.errorDetail?.message ?? event.error;
  }
  return failure;
}
