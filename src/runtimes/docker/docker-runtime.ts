import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { hasDependencies } from '../../config/dependencies.js';
import type { InputConfig } from '../../config/load.js';
import { PythondError, errorMessage } from '../../errors.js';
import { RuntimeEvents } from '../../telemetry/events/runtime-events.js';
import type { Logger } from '../../telemetry/logger.js';
import { hostArguments, SDK_CORE_DIR } from '../../protocol/host-command.js';
import type { HostExit } from '../../protocol/host-failure.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { UNHEARD, type BuildListener, type Prepared, type Runtime, type RuntimeContext, type RuntimeHost, type RuntimePlugin } from '../runtime.js';
import { AttachDemuxer } from './attach-demuxer.js';
import { buildCodeBundle, type CodeBundle } from './code-bundle.js';
import { CODE_DIR, containerSpec } from './container-spec.js';
import { DockerEngine } from './docker-engine.js';
import { ImageBuilder } from './image-builder.js';
import { ImagePuller, missingImage, SHIPPED_IMAGE } from './image-puller.js';
import { instanceId } from '../../instance-id.js';

const BOOTSTRAP = readFileSync(path.join(SDK_CORE_DIR, 'bootstrap.py'), 'utf8');

/**
 * Collector hosts in hardened Docker containers: create, attach, start, then
 * stream the code bundle and speak the protocol over the attached stdin and
 * the demultiplexed stdout. When a container is gone its exit state says why
 * (`oom`, `exit 139`), and it is removed.
 */
export const dockerRuntime: RuntimePlugin = {
  isolated: true,
  async open({ config, log, metrics }: RuntimeContext): Promise<Runtime> {
    const engine = new DockerEngine(log);
    const unavailable = await engine.problem();
    if (unavailable) throw new PythondError('DOCKER_UNAVAILABLE', unavailable);
    // An image that is missing is pulled, or fails its inputs alone; but `auto` asks whether docker can run the inputs here at all.
    if (config.runner.executor === 'auto') await requireUnpulledImages(engine, config.inputs);
    const instance = instanceId(config.runner.data_dir);
    for (const name of await engine.removeContainers(instance)) log.info(`removed leftover container ${name} from an earlier run`);
    metrics.containers.set({ state: 'running' }, 0);
    return new DockerRuntime({
      engine,
      instance,
      log,
      metrics,
      images: new ImageBuilder({ engine, instance, log }),
      puller: new ImagePuller({ engine, log, metrics, registryAuth: config.runner.registry_auth }),
    });
  },
};

/** The images no pull brings (`pull = "never"`, the image `npm run images` builds) must be there; rejects with IMAGE_MISSING otherwise. */
async function requireUnpulledImages(engine: DockerEngine, inputs: readonly InputConfig[]): Promise<void> {
  for (const input of inputs) {
    if ((input.pull === 'never' || input.image === SHIPPED_IMAGE) && (await engine.imageId(input.image)) === undefined) throw missingImage(input.image);
  }
}

class DockerRuntime implements Runtime {
  readonly kind = 'docker';
  readonly #engine: DockerEngine;
  readonly #docker: Docker;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #events: RuntimeEvents;
  /** Each input's code, packed once: a fresh tick should not read the files again. */
  readonly #bundles = new WeakMap<InputConfig, CodeBundle>();
  readonly #removals = new Set<Promise<unknown>>();
  readonly #images: ImageBuilder;
  readonly #puller: ImagePuller;
  /** The id of each input config's image, pulled as its `pull` says: once per version of the input (a reload's pull is the one its new hosts use). */
  readonly #bases = new WeakMap<InputConfig, Promise<string>>();
  /** What each input config's hosts run in, once ready: a fresh tick's start asks the engine nothing. */
  readonly #ready = new WeakMap<InputConfig, Prepared>();

  constructor(options: { engine: DockerEngine; instance: string; log: Logger; metrics: Metrics; images: ImageBuilder; puller: ImagePuller }) {
    this.#engine = options.engine;
    this.#images = options.images;
    this.#puller = options.puller;
    this.#docker = options.engine.docker;
    this.#instance = options.instance;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#events = new RuntimeEvents(options.log, options.metrics);
  }

  baseImage(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<string> {
    let base = this.#bases.get(input);
    if (!base) {
      base = this.#puller.ensure(input.image, input.pull, (image) => listener.pulling(image), signal);
      this.#bases.set(input, base);
      // Not there (yet): the next start looks, or pulls, again.
      base.catch(() => this.#bases.delete(input));
    }
    return base;
  }

  async prepare(input: InputConfig, listener: BuildListener, signal: AbortSignal): Promise<Prepared> {
    const ready = this.#ready.get(input);
    if (ready) return ready;
    const base = await this.baseImage(input, listener, signal);
    const prepared = hasDependencies(input.dependencies)
      ? await this.#images.prepare(input, base, listener, signal)
      : { name: input.image, built: false, base };
    this.#ready.set(input, prepared);
    return prepared;
  }

  async start(input: InputConfig): Promise<RuntimeHost> {
    // Prepared already (RunningInput prepares before it starts hosts): then this asks the engine nothing.
    const prepared = await this.prepare(input, UNHEARD, new AbortController().signal);
    const image = prepared.name;
    const bundle = await this.#bundle(input);
    const name = `pythond-${input.name.replace(/[^a-zA-Z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`;
    // The container's cgroup is the host's own: it reads its usage there.
    const hostArgs = hostArguments(CODE_DIR, bundle.dirs, { ownCgroup: true });
    const spec = containerSpec({ input, image, instance: this.#instance, bootstrap: BOOTSTRAP, hostArgs, name });
    let container: Docker.Container;
    try {
      container = await this.#docker.createContainer(spec);
    } catch (err) {
      // The input's image was removed under it (by hand, or by another runner's clean-up): the next start gets it again.
      const gone = (err as { statusCode?: number }).statusCode === 404 && this.#forget(input);
      const again = hasDependencies(input.dependencies) ? 'built' : input.pull === 'never' ? 'looked for' : 'pulled';
      const why = gone ? `image ${image} is gone from the engine; it is ${again} again at the next start` : errorMessage(err);
      throw new PythondError('HOST_START_FAILED', `${input.key}: cannot create a container from ${image}: ${why}`, { cause: err });
    }
    const id = container.id.slice(0, 12);
    const log = this.#log.child({ input: input.name, containerId: id });
    const events = new RuntimeEvents(log, this.#metrics);
    const remove = () => container.remove({ force: true, v: true }).catch(() => {});

    let attached: Duplex;
    try {
      attached = (await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true })) as unknown as Duplex;
      await container.start();
    } catch (err) {
      await remove();
      throw new PythondError('HOST_START_FAILED', `${input.key}: cannot start container ${name}: ${errorMessage(err)}`, { cause: err });
    }
    this.#metrics.containers.inc({ state: 'running' });
    log.debug({ name }, `container ${id} started`);

    const channel = new PassThrough();
    const stderr = new PassThrough();
    const demuxer = new AttachDemuxer(channel, stderr);
    // The container's output ends with its attach stream, also when that breaks ('close' without 'end').
    const ended = (): void => {
      if (!channel.writableEnded) channel.end();
      if (!stderr.writableEnded) stderr.end();
    };
    attached.on('end', ended).on('close', ended);
    attached.on('error', () => {}); // the container's end is reported by wait()
    attached.on('data', (chunk: Buffer) => {
      try {
        demuxer.push(chunk);
      } catch (err) {
        // Not the frames asked for (no TTY): nothing more can be read from this container, so it goes, and its runs fail as lost.
        events.containerUnreadable(id, err, errorMessage(err));
        attached.destroy();
        void container.kill({ signal: 'SIGKILL' }).catch(() => {});
        return;
      }
      // The demultiplexer writes without looking back: once the protocol channel is not being read, stop reading the container.
      if (!channel.writableNeedDrain || attached.isPaused()) return;
      attached.pause();
      channel.once('drain', () => attached.resume());
    });

    attached.write(`${bundle.tar.length}\n`);
    attached.write(bundle.tar);

    const exited = exitOf(container, events).then((exit) => {
      this.#metrics.containers.dec({ state: 'running' });
      log.debug({ exit }, `container ${id} stopped (${exit})`);
      // Removing takes tens of ms: off the tick's path, but removeAll() waits for it.
      const removal = remove();
      this.#removals.add(removal);
      void removal.finally(() => this.#removals.delete(removal));
      return exit;
    });
    return {
      id,
      image,
      paths: [
        [path.posix.join(CODE_DIR, 'core'), path.resolve(SDK_CORE_DIR)],
        ...bundle.dirs.map((dir, i) => [dir.folder, input.discovered[i]!.folder] as const),
      ],
      stdin: attached,
      channel,
      stderr,
      exited,
      kill: async () => {
        await container.kill({ signal: 'SIGKILL' }).catch(() => {});
        await exited;
      },
    };
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.#removals);
    for (const name of await this.#engine.removeContainers(this.#instance)) this.#events.leftBehind(name);
  }

  /** Forgets what `input`'s hosts ran in (it is gone): the next prepare() looks for it, pulls it or builds it again. */
  #forget(input: InputConfig): boolean {
    this.#bases.delete(input);
    return this.#ready.delete(input);
  }

  async #bundle(input: InputConfig): Promise<CodeBundle> {
    let bundle = this.#bundles.get(input);
    if (!bundle) {
      bundle = await buildCodeBundle(SDK_CORE_DIR, CODE_DIR, input.discovered, input.key);
      this.#bundles.set(input, bundle);
    }
    return bundle;
  }
}

/** Waits for the container to stop and says why: `oom`, `exit <code>`, or `lost` when the engine cannot say. */
async function exitOf(container: Docker.Container, events: RuntimeEvents): Promise<HostExit> {
  try {
    const { StatusCode: code } = (await container.wait()) as { StatusCode: number };
    // The OOM killer sends SIGKILL (137); only then is the state worth a request.
    if (code === 137 && (await container.inspect()).State.OOMKilled) return 'oom';
    return `exit ${code}`;
  } catch (err) {
    events.containerLost(errorMessage(err));
    return 'lost';
  }
}
