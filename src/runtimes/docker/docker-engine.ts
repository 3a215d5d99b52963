import { statSync } from 'node:fs';
import Docker from 'dockerode';
import { PythondError, errorMessage, isPythondError } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { LABEL_INSTANCE, LABEL_MANAGED } from './labels.js';

/** The collector image `npm run images` builds (docker/build-images.sh), and the default `[runner] image`. */
const SHIPPED_IMAGE = 'pythond-python:3';

/**
 * The Docker engine pythond talks to: `DOCKER_HOST` when set, else the
 * default socket. Every container operation is logged with its id.
 */
export class DockerEngine {
  readonly docker: Docker;
  readonly #log: Logger;

  constructor(log: Logger, docker: Docker = new Docker()) {
    this.docker = docker;
    this.#log = log;
  }

  /** Why no engine answers within `timeoutMs`, as a sentence for the operator; undefined when one does. */
  async problem(timeoutMs = 3_000): Promise<string | undefined> {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') return socketDenied(where);
      return `no Docker engine answers at ${where} (${errorMessage(err)})`;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The id of `image`; fails with a clear error when it is not on the engine, saying how to get it there. */
  async imageId(image: string): Promise<string> {
    try {
      return (await this.docker.getImage(image).inspect()).Id;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        const how =
          image === SHIPPED_IMAGE
            ? `build it with \`npm run images\` (no registry needed), or \`docker build -t ${image} docker/python\` where a registry is reachable`
            : `pythond does not pull images: build it (for example FROM ${SHIPPED_IMAGE}, which \`npm run images\` builds) or \`docker pull ${image}\`, or correct the image name`;
        throw new PythondError('IMAGE_MISSING', `image ${image} is not on the Docker engine; ${how}`);
      }
      throw new PythondError('DOCKER_UNAVAILABLE', `cannot inspect image ${image}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** Whether `image` is on the engine. */
  async hasImage(image: string): Promise<boolean> {
    try {
      await this.imageId(image);
      return true;
    } catch (err) {
      if (isPythondError(err, 'IMAGE_MISSING')) return false;
      throw err;
    }
  }

  /**
   * Removes images, never by force: the engine keeps one a container still
   * uses. Returns the ids it removed.
   */
  async removeImages(ids: readonly string[]): Promise<string[]> {
    const removed: string[] = [];
    for (const id of ids) {
      try {
        await this.docker.getImage(id).remove();
        removed.push(id);
      } catch (err) {
        this.#log.debug({ image: id }, `image ${id.replace(/^sha256:/, '').slice(0, 12)} kept: ${errorMessage(err)}`);
      }
    }
    return removed;
  }

  /**
   * Removes every container of this runner instance, found by its labels:
   * at start what a crashed run left behind, at shutdown anything still
   * there. Returns their names.
   */
  async removeContainers(instance: string): Promise<string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_INSTANCE}=${instance}`] },
    });
    await Promise.all(
      containers.map(async (info) => {
        await this.docker
          .getContainer(info.Id)
          .remove({ force: true, v: true })
          .catch(() => {});
        this.#log.debug({ containerId: info.Id.slice(0, 12) }, `removed container ${info.Id.slice(0, 12)}`);
      }),
    );
    return containers.map((info) => info.Names[0]?.replace(/^\//, '') ?? info.Id.slice(0, 12));
  }
}

/** The socket is there but this user may not use it: say who we are and what the socket wants. */
function socketDenied(where: string): string {
  const socket = where.replace(/^unix:\/\//, '');
  let owner = '';
  try {
    const stats = statSync(socket);
    owner = ` (owner uid ${stats.uid}, group gid ${stats.gid}, mode ${(stats.mode & 0o777).toString(8)})`;
  } catch {
    // the message below still says who we are
  }
  const groups = process.getgroups?.().join(',') ?? '?';
  return `permission denied on the Docker socket ${socket}${owner}: pythond runs as uid ${process.getuid?.()} with groups ${groups}; run it as a member of the socket's group, or as root`;
}
