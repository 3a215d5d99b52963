import { statSync } from 'node:fs';
import Docker from 'dockerode';
import { registryHost } from '../../config/registry-auth.js';
import { PythondError, errorMessage } from '../../errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { LABEL_INSTANCE, LABEL_MANAGED } from './labels.js';

/**
 * The Docker engine pythond talks to: `DOCKER_HOST` when set, else the
 * default socket. Every container operation is logged with its id.
 */
export class DockerEngine {
  readonly docker: Docker;
  readonly #log: Logger;
  #defaultRegistry: Promise<string> | undefined;

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

  /** The id of `image`, or undefined when it is not on the engine. */
  async imageId(image: string): Promise<string | undefined> {
    try {
      return (await this.docker.getImage(image).inspect()).Id;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw new PythondError('DOCKER_UNAVAILABLE', `cannot inspect image ${image}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** The host of the registry the engine pulls from when an image names none (its `IndexServerAddress`). */
  async defaultRegistry(): Promise<string> {
    this.#defaultRegistry ??= this.docker
      .info()
      .then((info: { IndexServerAddress?: string }) => registryHost(info.IndexServerAddress ?? 'the default registry'));
    return this.#defaultRegistry;
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
