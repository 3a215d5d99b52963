import { fileURLToPath } from 'node:url';

/**
 * The Python side shipped with pythond (python.d/core: the SDK and the
 * collector host). Users' python.d folders hold only collectors; the core is
 * always this one, so a runner and its host speak the same protocol version.
 */
export const SDK_CORE_DIR = fileURLToPath(new URL('../../../python.d/core/', import.meta.url));
export const HOST_SCRIPT = 'host.py';

/** One `dirs` entry as the host sees it: where it is, and the modules discovery found in it. */
export interface HostDir {
  /** The folder its scripts import their siblings from, in the host's file system. */
  folder: string;
  /** Import name and file of each module, in the order discovery found them. */
  modules: { module: string; file: string }[];
}

/**
 * The arguments of host.py (PROTOCOL.md, "Starting a host"): `--root` (what
 * file names in messages are relative to), one `--path` per dir (put on
 * sys.path, so scripts import their siblings as in DataKit), `--cgroup` when
 * the cgroup the host sees is its own (a container's: its usage is read
 * there), `--secrets` when the first line of its stdin holds the input's
 * secrets (never their values here: a command line is anyone's to read),
 * then one `MODULE=FILE` per module to import. Discovery happens once, in
 * the runner: the host imports exactly these.
 */
export function hostArguments(root: string, dirs: HostDir[], options: { ownCgroup?: boolean; secrets?: boolean } = {}): string[] {
  const paths = dirs.map((dir) => dir.folder);
  const modules = dirs.flatMap((dir) => dir.modules.map(({ module, file }) => `${module}=${file}`));
  const flags = [...(options.ownCgroup ? ['--cgroup'] : []), ...(options.secrets ? ['--secrets'] : [])];
  return ['--root', root, ...paths.flatMap((entry) => ['--path', entry]), ...flags, ...modules];
}
