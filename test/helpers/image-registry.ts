import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { docker } from './docker.js';
import { exec } from './exec.js';
import { freePort } from './fixtures.js';
import { ServerProcess } from './metric-servers.js';

/** The user the registry takes (its htpasswd holds the bcrypt of PASSWORD) and its password. */
export const REGISTRY_USER = 'pythond';
const PASSWORD = 's3cret';
const HTPASSWD = `${REGISTRY_USER}:$2b$04$oebOinlLQq/OmkHqfZdtxubT/jskq2biALgkiLvzglfWrzKzWSoEG\n`;

/** The label of every image the tests make for a registry, so that what is left behind can be found. */
export const TEST_IMAGE_LABEL = 'io.pythond.test=registry';

/**
 * A real container registry, Debian's `docker-registry` (the distribution
 * registry), on a free loopback port with its own storage folder and, with
 * `auth`, htpasswd users: the Docker engine takes `127.0.0.1:<port>` as an
 * insecure registry by default, so pushes and pulls need no TLS. `stop()`
 * and `start()` again keep the images (a registry that is down a while).
 */
export class ImageRegistry extends ServerProcess {
  readonly url: string;
  /** `127.0.0.1:<port>`: how image references name it. */
  readonly host: string;
  readonly #auth: boolean;

  private constructor(port: number, auth: boolean) {
    super('registry');
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
    this.#auth = auth;
  }

  static async start(options: { auth: boolean }): Promise<ImageRegistry> {
    const registry = new ImageRegistry(await freePort(), options.auth);
    await registry.start();
    return registry;
  }

  /** The credentials `docker login` would save for it, as a Docker config file at `file` (what `registry_auth` names). */
  writeDockerConfig(file: string, password = PASSWORD): void {
    const auth = Buffer.from(`${REGISTRY_USER}:${password}`).toString('base64');
    writeFileSync(file, JSON.stringify({ auths: { [this.host]: { auth } } }));
  }

  /**
   * Builds `FROM base` with `ENV PYTHOND_MARKER=<marker>`, pushes it to
   * `<host>/<name>` and removes it from the engine: the image is then only
   * in the registry. Returns its reference.
   */
  async push(name: string, marker: string, base = 'pythond-python:3'): Promise<string> {
    const reference = `${this.host}/${name}`;
    const dockerfile = path.join(this.dir, `${marker}.Dockerfile`);
    writeFileSync(dockerfile, `FROM ${base}\nENV PYTHOND_MARKER=${marker}\nLABEL ${TEST_IMAGE_LABEL}\n`);
    await exec('docker', ['build', '-q', '-t', reference, '-f', dockerfile, this.dir]);
    await this.#push(reference);
    return reference;
  }

  /** Pushes the engine's `image` to the registry as `reference` (`<host>/...`), then removes that tag from the engine: only the registry has it by that name. */
  async pushImage(image: string, reference: string): Promise<void> {
    const [repo, tag] = [reference.slice(0, reference.lastIndexOf(':')), reference.slice(reference.lastIndexOf(':') + 1)];
    await docker.getImage(image).tag({ repo, tag });
    await this.#push(reference);
  }

  async #push(reference: string): Promise<void> {
    const credentials = this.#auth ? { username: REGISTRY_USER, password: PASSWORD, serveraddress: this.host } : {};
    const stream = await docker.getImage(reference).push({ authconfig: credentials });
    const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => (err ? reject(err) : resolve(output))),
    );
    const failed = events.find((event) => event.error);
    if (failed) throw new Error(`pushing ${reference} failed: ${failed.error}`);
    await docker.getImage(reference).remove();
  }

  protected command() {
    const storage = path.join(this.dir, 'storage');
    const htpasswd = path.join(this.dir, 'htpasswd');
    writeFileSync(htpasswd, HTPASSWD);
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      'http:',
      `  addr: ${this.host}`,
      '  secret: pythond-test',
      ...(this.#auth ? ['auth:', '  htpasswd:', '    realm: pythond-test', `    path: ${htpasswd}`] : []),
    ].join('\n');
    writeFileSync(path.join(this.dir, 'config.yml'), `${config}\n`);
    return { file: 'docker-registry', args: ['serve', path.join(this.dir, 'config.yml')] };
  }

  /** Its root answers 200 without credentials once it listens. */
  protected readyUrl(): string {
    return `${this.url}/`;
  }
}
