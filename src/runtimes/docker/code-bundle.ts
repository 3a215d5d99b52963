import { readFileSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import { codeFiles } from '../../discovery/code-files.js';
import type { DiscoveredDir } from '../../discovery/discover.js';
import { PythondError } from '../../errors.js';
import type { HostDir } from '../../protocol/host-command.js';
import { formatBytes } from '../../schema/units.js';

/**
 * The code a container needs, as one tar archive streamed into it at start:
 * the SDK under `core/` and each `dirs` entry under `d0/`, `d1/`, ... No bind
 * mount of runner paths, so it works with a read-only root filesystem, with
 * the runner itself in a container, and with a remote Docker engine.
 */
export interface CodeBundle {
  tar: Buffer;
  /** The dirs as the host sees them once the bundle is unpacked, in `dirs` order. */
  dirs: HostDir[];
}

const MAX_BUNDLE_BYTES = 32 * 1024 ** 2;

function addFile(pack: tar.Pack, from: string, name: string, size: { bytes: number }, configKey: string): void {
  const content = readFileSync(from);
  size.bytes += content.length;
  if (size.bytes > MAX_BUNDLE_BYTES) {
    throw new PythondError(
      'HOST_START_FAILED',
      `${configKey}: the collector code to ship into the container is over ${formatBytes(MAX_BUNDLE_BYTES)}; keep only scripts and small files in the dirs`,
    );
  }
  pack.entry({ name, mode: 0o644 }, content);
}

/**
 * Packs the SDK core and every dir of an input (the whole folder, or the one
 * script), to be unpacked under `root` in the container. Long paths are
 * written as pax headers, so any path the collectors' folders have fits.
 */
export async function buildCodeBundle(coreDir: string, root: string, dirs: readonly DiscoveredDir[], configKey: string): Promise<CodeBundle> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve, reject) => pack.on('end', resolve).on('error', reject));
  const size = { bytes: 0 };
  try {
    for (const { file, relative } of codeFiles({ entry: 'core', path: coreDir, folder: coreDir, modules: [] }))
      addFile(pack, file, `core/${relative}`, size, configKey);
    const hostDirs = dirs.map((dir, i): HostDir => {
      const name = `d${i}`;
      pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755 });
      for (const { file, relative } of codeFiles(dir)) addFile(pack, file, `${name}/${relative}`, size, configKey);
      // Where each module lands: its path under the dir's folder, now under root/dN.
      const modules = dir.modules.map(({ module, file }) => ({
        module,
        file: path.posix.join(root, name, path.relative(dir.folder, file).split(path.sep).join('/')),
      }));
      return { folder: path.posix.join(root, name), modules };
    });
    pack.finalize();
    await ended;
    return { tar: Buffer.concat(chunks), dirs: hostDirs };
  } catch (err) {
    pack.destroy();
    throw err;
  }
}
