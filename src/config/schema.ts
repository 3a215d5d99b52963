import os from 'node:os';
import { LOG_FORMATS } from '../telemetry/logger.js';
import { CLUSTER_MODES } from './cluster.js';
import { tagMap } from './global-tags.js';
import { hostName } from './host-identity.js';
import { ENV_NAME } from './references.js';
import { registryAuthFile } from './registry-auth.js';
import { listenAddress } from '../schema/addresses.js';
import {
  FieldError,
  describe,
  duration,
  existingFolder,
  filePath,
  httpUrl,
  integer,
  nonEmptyString,
  oneOf,
  optional,
  positiveNumber,
  secret,
  size,
  stringList,
  withDefault,
  type Field,
  type TableOf,
} from '../schema/fields.js';
import { Secret } from '../schema/secret.js';
import { isTable } from '../schema/table.js';

/**
 * The schema of pythond.toml: every key, its type and its default, in one
 * place. The TypeScript types of the loaded config are derived from it.
 */

export const MODES = ['warm', 'fresh'] as const;
/** What a tick still running when the next one of its collector is due does to that one: `skip` it, or `kill` itself. */
export const OVERLAP_POLICIES = ['skip', 'kill'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/**
 * When an input's image is pulled from its registry (docker): `missing`, when
 * it is not on the engine; `always`, at start and at every reload (a new push
 * under the same tag restarts the input); `never`.
 */
export const PULL_POLICIES = ['missing', 'always', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** `runtimes`: where collector hosts can run (`[runner] executor`); `auto` picks the first that works here. */
export const runnerSchema = (baseDir: string, runtimes: readonly string[]) => ({
  /** Ticks running at once, all inputs together. */
  concurrency: withDefault(integer(1, 100_000), 8),
  /** Collector hosts starting at once (container create to hello), all inputs together: a herd of starts slows the hosts already up. */
  host_starts: withDefault(integer(1, 1_000), 4),
  /** piscina threads decoding and encoding points. */
  workers: withDefault(integer(1, 64), Math.max(1, Math.min(2, os.availableParallelism()))),
  executor: withDefault(oneOf(['auto', ...runtimes]), 'auto'),
  image: withDefault(nonEmptyString('an image name such as "pythond-python:3"'), 'pythond-python:3'),
  pull: withDefault(oneOf(PULL_POLICIES), 'missing'),
  /** The Docker config file whose `auths` hold the registries' credentials for pulls (registry-auth.ts). */
  registry_auth: optional(registryAuthFile(baseDir)),
  listen: withDefault(listenAddress(), '127.0.0.1:9529'),
  python_d: withDefault(filePath(baseDir), path(baseDir, 'python.d')),
  data_dir: withDefault(filePath(baseDir), path(baseDir, 'data')),
  /** Where more `[[inputs.pythond]]` blocks are read from, every `*.conf` below it (DataKit's conf.d); unset: `conf.d` beside the config file, when there is one. */
  conf_d: optional(existingFolder(baseDir)),
  /** This machine's name for collectors and global tags; unset: PYTHOND_HOSTNAME, else the OS's host name. */
  hostname: optional(hostName()),
  log_level: withDefault(oneOf(LOG_LEVELS), 'info'),
  /** Unset: pretty on a terminal, json otherwise (`--log-format` overrides both). */
  log_format: optional(oneOf(LOG_FORMATS)),
  /** When set, the HTTP write endpoints require `Authorization: Bearer <token>`. */
  api_token: optional(secret({ nonEmpty: true, expected: 'a non-empty token' })),
  /** How long SIGTERM waits for ticks in flight and outputs before giving up. */
  shutdown_timeout: withDefault(duration(), 30_000),
  /** Largest body `POST /v1/write/:category` accepts. */
  max_body_size: withDefault(size(1024), 32 * 1024 ** 2),
  /** A collector whose ticks failed this many times in a row is quarantined: tried only every quarantine_interval. */
  quarantine_after: withDefault(integer(1, 1_000_000), 10),
  /** How often a quarantined collector is tried; also the longest pause of a collector backing off. */
  quarantine_interval: withDefault(duration(1000), 300_000),
  ...pipSources(baseDir),
});

/**
 * Where pip finds the packages of an input's requirements.txt: an index,
 * and a folder of wheels (alone, pip looks nowhere else). Runner and input
 * level; the input's win.
 */
const pipSources = (baseDir: string) => ({
  pip_index_url: optional(
    httpUrl('https://mirror.example.com/simple/', "the URL is written into the input's image history; give the packages as wheels in pip_find_links instead"),
  ),
  pip_find_links: optional(existingFolder(baseDir)),
});

/** One `ports` entry: a container port published on the host, as `docker run -p` writes it. */
export interface PublishedPort {
  /** The host address it listens on; '' for every address. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

const PORT_MAPPING = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;
const isPort = (port: number): boolean => port >= 1 && port <= 65535;

const publishedPorts = () => ({
  read(value: unknown): PublishedPort[] {
    const expected = '"[ip:]hostPort:containerPort[/udp]" such as "127.0.0.1:9100:9100"';
    return stringList({ nonEmpty: false, expected: `a list of ${expected}` })
      .read(value)
      .map((text, i) => {
        const match = PORT_MAPPING.exec(text.trim());
        const [hostPort, containerPort] = [Number(match?.[2]), Number(match?.[3])];
        if (!match || !isPort(hostPort) || !isPort(containerPort))
          throw new FieldError(`[${i}] must look like ${expected} (ports 1 to 65535), got ${JSON.stringify(text)}`);
        return { hostIp: match[1] ?? '', hostPort, containerPort, protocol: (match[4] ?? 'tcp') as PublishedPort['protocol'] };
      });
  },
});

/** `NAME=value`: an environment variable name (ENV_NAME), then `=`. */
const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * `envs`: `NAME=value` strings. An entry that holds a reference stays a
 * Secret: the input hands it to its hosts as it hands `secrets`.
 */
const envEntries = (): Field<(string | Secret)[]> => ({
  takesSecrets: true,
  read(value) {
    const expected = 'a list of "NAME=value" strings';
    if (!Array.isArray(value)) throw new FieldError(`must be ${expected}, got ${describe(value)}`);
    return value.map((item, i) => {
      const text = item instanceof Secret ? item.reveal() : item;
      if (typeof text !== 'string' || !ENV_ENTRY.test(text)) throw new FieldError(`[${i}] must look like "NAME=value", got ${describe(item)}`);
      return item as string | Secret;
    });
  },
});

/** `secrets`: a table of environment variable names to values (written, or references), each kept as a Secret. */
const secretVariables = (): Field<Record<string, Secret>> => ({
  takesSecrets: true,
  read(value) {
    if (!isTable(value)) throw new FieldError(`must be a table of NAME = "value", such as { DB_PASSWORD = "\${file:/run/secrets/db}" }`);
    const variables: Record<string, Secret> = {};
    for (const [name, item] of Object.entries(value)) {
      if (!ENV_NAME.test(name)) throw new FieldError(`.${name} is not an environment variable name (letters, digits and _, not starting with a digit)`);
      const text = item instanceof Secret ? item.reveal() : item;
      if (typeof text !== 'string') throw new FieldError(`.${name} must be a string, got ${describe(item)}`);
      variables[name] = item instanceof Secret ? item : new Secret(text);
    }
    return variables;
  },
});
const MOUNT_ENTRY = /^\/[^:]*:\/[^:]*(:ro)?$/;

/** A Debian package as apt-get install takes it: `name`, `name:arch`, `name=version` or `name/release`. */
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+|\/[a-z0-9.-]+)?$/;

/** `baseDir`: the config file's folder, which relative paths are read from. */
export const inputSchema = (baseDir: string) => ({
  name: nonEmptyString('a non-empty name'),
  /** The Python interpreter: on this machine for the process executor, inside the image for docker. */
  cmd: withDefault(nonEmptyString('a Python command such as "python3"'), 'python3'),
  dirs: stringList({ nonEmpty: true, expected: 'a non-empty list of folders under python.d' }),
  envs: withDefault(envEntries(), []),
  /** Environment variables handed to the host over its stdin, never in its process's or container's environment. */
  secrets: withDefault(secretVariables(), {}),
  /** Added to every point of this input that does not set the tag itself, before the global tags. */
  tags: withDefault(tagMap(), {}),
  mode: withDefault(oneOf(MODES), 'warm'),
  /** Ticks of this input running at once. */
  concurrency: withDefault(integer(1, 10_000), 1),
  /** Seconds between runs of each of this input's collectors, instead of their own `interval`. */
  interval: optional(duration(1)),
  /**
   * A tick running longer fails; default: the collector's interval. 0 (`"0"`):
   * no timeout, the input's collectors are services whose run() may never return.
   */
  timeout: optional(duration()),
  /** A tick still running when the next is due: `skip` the next (and count it), or `kill` the running one (and count it) so the next runs. */
  overlap: withDefault(oneOf(OVERLAP_POLICIES), 'skip'),
  image: optional(nonEmptyString('an image name')),
  pull: optional(oneOf(PULL_POLICIES)),
  memory: withDefault(size(6 * 1024 ** 2), 128 * 1024 ** 2),
  cpus: withDefault(positiveNumber(), 0.5),
  pids: withDefault(integer(8, 1_000_000), 64),
  network: withDefault(nonEmptyString('"bridge", "none", "host" or a network name'), 'bridge'),
  /** Container ports published on the host (docker; a service's HTTP port, say), with a bridge or named network. */
  ports: withDefault(publishedPorts(), []),
  mounts: withDefault(
    stringList({
      nonEmpty: false,
      expected: 'a list of "/host/path:/container/path[:ro]" strings',
      item: (text) =>
        MOUNT_ENTRY.test(text) ? undefined : `must look like "/host/path:/container/path" (mounts are always read-only), got ${JSON.stringify(text)}`,
    }),
    [],
  ),
  /** Debian packages installed into the input's image (docker), e.g. ["python3-pymysql", "sysstat"]. */
  apt: withDefault(
    stringList({
      nonEmpty: false,
      expected: 'a list of Debian package names such as "python3-pymysql"',
      item: (text) =>
        DEBIAN_PACKAGE.test(text) ? undefined : `must be a Debian package name such as "sysstat" or "sysstat=12.6.1-1", got ${JSON.stringify(text)}`,
    }),
    [],
  ),
  ...pipSources(baseDir),
  /** With [cluster]: `one` runs on one replica at a time, `each` on every replica (collectors of the machine itself). */
  cluster: withDefault(oneOf(CLUSTER_MODES), 'one'),
  /** Per tick: points reported. */
  max_points: withDefault(integer(1), 1_000_000),
  /** Per tick: bytes of report messages (and so the largest single message). */
  max_report_size: withDefault(size(1024), 64 * 1024 ** 2),
  /**
   * Per tick: bytes of everything a collector writes, stdout included (print,
   * sys.stdout, sys.stderr, and raw writes to either file descriptor: its host
   * points a collector's stdout at its stderr).
   */
  max_stderr: withDefault(size(1024), 1024 ** 2),
});

function path(baseDir: string, relative: string): string {
  return filePath(baseDir).read(relative);
}

export type RunnerConfig = TableOf<ReturnType<typeof runnerSchema>>;
export type InputTable = TableOf<ReturnType<typeof inputSchema>>;
