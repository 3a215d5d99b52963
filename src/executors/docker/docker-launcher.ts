import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { InputConfig } from '../../config/load.js';
import { PythondError, errorMessage } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { HostLauncher, HostStreams } from '../executor.js';
import { SDK_CORE_DIR } from '../sdk.js';
import { buildCodeBundle, type CodeBundle } from './code-bundle.js';
import { CODE_DIR, containerSpec } from './container-spec.js';

const BOOTSTRAP = readFileSync(path.join(SDK_CORE_DIR, 'bootstrap.py'), 'utf8');

export interface ContainerCounts {
  started(): void;
  stopped(): void;
}

/**
 * Starts collector hosts in Docker containers: create, attach, start, then
 * stream the code bundle and speak the protocol over the attached stdin and
 * the demultiplexed stdout. When the container is gone its exit state says
 * why (`oom`, `exit 139`), and it is removed.
 */
export class DockerLauncher implements HostLauncher {
  readonly kind = 'docker';
  readonly #docker: Docker;
  readonly #input: InputConfig;
  readonly #image: string;
  readonly #instance: string;
  readonly #bundle: CodeBundle;
  readonly #log: Logger;
  readonly #counts: ContainerCounts;
  readonly #removals = new Set<Promise<unknown>>();

  constructor(options: { docker: Docker; input: InputConfig; image: string; instance: string; log: Logger; counts: ContainerCounts }) {
    this.#docker = options.docker;
    this.#input = options.input;
    this.#image = options.image;
    this.#instance = options.instance;
    this.#log = options.log;
    this.#counts = options.counts;
    this.#bundle = buildCodeBundle(
      SDK_CORE_DIR,
      options.input.discovered.map((dir) => dir.path),
      options.input.key,
    );
  }

  async launch(): Promise<HostStreams> {
    const name = `pythond-${this.#input.name.replace(/[^a-zA-Z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`;
    const spec = containerSpec({
      input: this.#input,
      image: this.#image,
      instance: this.#instance,
      bootstrap: BOOTSTRAP,
      hostArgs: ['--root', CODE_DIR, ...this.#bundle.dirs],
      name,
    });
    let container: Docker.Container;
    try {
      container = await this.#docker.createContainer(spec);
    } catch (err) {
      throw new PythondError('HOST_START_FAILED', `${this.#input.key}: cannot create a container from ${this.#image}: ${errorMessage(err)}`, { cause: err });
    }
    const id = container.id.slice(0, 12);
    const log = this.#log.child({ containerId: id });
    const remove = () => container.remove({ force: true, v: true }).catch(() => {});

    let attached: Duplex;
    try {
      attached = (await container.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true })) as unknown as Duplex;
      await container.start();
    } catch (err) {
      await remove();
      throw new PythondError('HOST_START_FAILED', `${this.#input.key}: cannot start container ${name}: ${errorMessage(err)}`, { cause: err });
    }
    this.#counts.started();
    log.debug({ name }, `container ${id} started`);

    const channel = new PassThrough();
    const stderr = new PassThrough();
    container.modem.demuxStream(attached, channel, stderr);
    attached.on('end', () => {
      channel.end();
      stderr.end();
    });
    attached.on('error', () => {}); // the container's end is reported by wait()

    attached.write(`${this.#bundle.tar.length}\n`);
    attached.write(this.#bundle.tar);

    const exited = this.#exitReason(container).then((reason) => {
      this.#counts.stopped();
      log.debug({ reason }, `container ${id} stopped (${reason})`);
      // Removing takes tens of ms: off the tick's path, but close() waits for it.
      const removal = remove();
      this.#removals.add(removal);
      void removal.finally(() => this.#removals.delete(removal));
      return reason;
    });
    return {
      id,
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

  /** Waits until every stopped container is removed. */
  async close(): Promise<void> {
    await Promise.all(this.#removals);
  }

  /** Waits for the container to stop and says why: `oom`, or `exit <code>`. */
  async #exitReason(container: Docker.Container): Promise<string> {
    try {
      const { StatusCode: code } = (await container.wait()) as { StatusCode: number };
      // The OOM killer sends SIGKILL (137); only then is the state worth a request.
      if (code === 137 && (await container.inspect()).State.OOMKilled) return 'oom';
      return `exit ${code}`;
    } catch (err) {
      return `lost (${errorMessage(err)})`;
    }
  }
}
