import type { ContainerCreateOptions } from 'dockerode';
import type { InputConfig } from '../../config/load.js';
import { containerLabels } from './labels.js';

/** Where the bootstrap unpacks the code bundle: the only writable place in the container. */
export const CODE_DIR = '/tmp/pythond';
/** The size of that writable /tmp; its pages count against the memory limit. */
export const TMPFS_SIZE = '64m';
/** The unprivileged user collectors run as (the image's `collector`, or just these numbers). */
export const COLLECTOR_USER = '10001:10001';

/**
 * The hardened container of one collector host: non-root, no capabilities,
 * no privilege escalation, read-only root filesystem with a small tmpfs,
 * memory / CPU / pids limits, the input's network and published ports,
 * read-only mounts only. Its host name is this machine's (the input's
 * `hostname`), so `socket.gethostname()` answers as under DataKit, and the
 * same at every tick; but on another container's network (`container:<id>`),
 * which brings that container's name (the engine refuses both).
 */
export function containerSpec(options: {
  input: InputConfig;
  image: string;
  instance: string;
  bootstrap: string;
  hostArgs: string[];
  name: string;
}): ContainerCreateOptions {
  const { input } = options;
  return {
    name: options.name,
    ...(input.network.startsWith('container:') ? {} : { Hostname: input.hostname }),
    Image: options.image,
    Cmd: [input.cmd, '-c', options.bootstrap, CODE_DIR, ...options.hostArgs],
    Env: [...input.envs, 'PYTHONDONTWRITEBYTECODE=1'],
    User: COLLECTOR_USER,
    WorkingDir: '/tmp',
    Labels: containerLabels(options.instance, input.name),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    NetworkDisabled: input.network === 'none',
    ExposedPorts: Object.fromEntries(input.ports.map((port) => [`${port.containerPort}/${port.protocol}`, {}])),
    HostConfig: {
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,noexec,size=${TMPFS_SIZE},mode=1777` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: input.memory,
      MemorySwap: input.memory, // no swap: the limit is the limit
      NanoCpus: Math.round(input.cpus * 1e9),
      PidsLimit: input.pids,
      NetworkMode: input.network,
      PortBindings: portBindings(input),
      Binds: input.mounts.map((mount) => (mount.endsWith(':ro') ? mount : `${mount}:ro`)),
      IpcMode: 'private',
      // The runner reads output over attach; the engine keeps no log of it.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false, // removed by the runner after it read the exit state (OOM, exit code)
    },
  };
}

/** The input's `ports` as the engine takes them: host bindings per `<containerPort>/<protocol>`. */
function portBindings(input: InputConfig): Record<string, { HostIp: string; HostPort: string }[]> {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of input.ports) {
    const key = `${port.containerPort}/${port.protocol}`;
    bindings[key] = [...(bindings[key] ?? []), { HostIp: port.hostIp, HostPort: String(port.hostPort) }];
  }
  return bindings;
}
