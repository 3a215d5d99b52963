import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../config/units.js';
import { PythondError } from '../../errors.js';

/**
 * The code a container needs, as one tar archive streamed into it at start:
 * the SDK under `core/` and each `dirs` entry under `d0/`, `d1/`, ... No bind
 * mount of runner paths, so it works with a read-only root filesystem, with
 * the runner itself in a container, and with a remote Docker engine.
 */
export interface CodeBundle {
  tar: Buffer;
  /** Folder names of the dirs inside the bundle, in `dirs` order. */
  dirs: string[];
}

const MAX_BUNDLE_BYTES = 32 * 1024 ** 2;
const BLOCK = 512;

function header(name: string, size: number, type: '0' | '5'): Buffer {
  const block = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar keeps long paths as prefix (155 bytes) + name (100 bytes), split at a slash.
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) {
      throw new PythondError('HOST_START_FAILED', `cannot ship ${name} into the container: the path is too long for a tar archive`);
    }
  }
  const octal = (value: number, width: number): string => value.toString(8).padStart(width - 1, '0') + '\0';
  block.write(base, 0, 100, 'utf8');
  block.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(0, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\0' + '00', 257, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

class TarWriter {
  readonly #parts: Buffer[] = [];
  #bytes = 0;

  directory(name: string): void {
    this.#push(header(`${name}/`, 0, '5'));
  }

  file(name: string, content: Buffer): void {
    this.#push(header(name, content.length, '0'));
    this.#push(content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) this.#push(Buffer.alloc(padding));
  }

  get size(): number {
    return this.#bytes;
  }

  finish(): Buffer {
    this.#push(Buffer.alloc(BLOCK * 2));
    return Buffer.concat(this.#parts, this.#bytes);
  }

  #push(part: Buffer): void {
    this.#parts.push(part);
    this.#bytes += part.length;
  }
}

const skipped = (name: string): boolean => name.startsWith('.') || name === '__pycache__' || name.endsWith('.pyc');

function addTree(tar: TarWriter, source: string, target: string, configKey: string): void {
  tar.directory(target);
  for (const entry of readdirSync(source, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (skipped(entry.name)) continue;
    const from = path.join(source, entry.name);
    const to = `${target}/${entry.name}`;
    const stats = statSync(from); // follows symlinks: the container gets the content
    if (stats.isDirectory()) addTree(tar, from, to, configKey);
    else if (stats.isFile()) tar.file(to, readFileSync(from));
    if (tar.size > MAX_BUNDLE_BYTES) {
      throw new PythondError('HOST_START_FAILED', `${configKey}: the collector code to ship into the container is over ${formatBytes(MAX_BUNDLE_BYTES)}; keep only scripts and small files in the dirs`);
    }
  }
}

/** Packs the SDK core and every dir (the whole folder, or the one script) of an input. */
export function buildCodeBundle(coreDir: string, dirs: string[], configKey: string): CodeBundle {
  const tar = new TarWriter();
  addTree(tar, coreDir, 'core', configKey);
  const names = dirs.map((dir, i) => {
    const name = `d${i}`;
    if (statSync(dir).isDirectory()) addTree(tar, dir, name, configKey);
    else {
      tar.directory(name);
      tar.file(`${name}/${path.basename(dir)}`, readFileSync(dir));
      return `${name}/${path.basename(dir)}`;
    }
    return name;
  });
  return { tar: tar.finish(), dirs: names };
}
