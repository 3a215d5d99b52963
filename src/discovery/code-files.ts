import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DiscoveredDir } from './discover.js';

/** One file an input ships to its host: where it is, and its path inside its dir (`/`-separated). */
export interface CodeFile {
  file: string;
  relative: string;
}

const skipped = (name: string): boolean => name.startsWith('.') || name === '__pycache__' || name.endsWith('.pyc');

/** Whether a path inside an input's folder (`sub/x.py`) is one codeFiles() would ship: no hidden part, no Python cache. */
export const isCodePath = (relative: string): boolean => !relative.split(/[\\/]/).some(skipped);

/**
 * Every file of a `dirs` entry that belongs to the input's code: the whole
 * folder (the scripts and whatever they read beside them, at any depth) or
 * the one script, in name order; hidden entries and Python's caches left out,
 * symbolic links followed.
 */
export function codeFiles(dir: DiscoveredDir): CodeFile[] {
  if (dir.path !== dir.folder) return [{ file: dir.path, relative: path.basename(dir.path) }];
  const files: CodeFile[] = [];
  const walk = (folder: string, relative: string): void => {
    for (const name of readdirSync(folder).sort()) {
      if (skipped(name)) continue;
      const file = path.join(folder, name);
      const stats = statSync(file, { throwIfNoEntry: false });
      const inside = relative ? `${relative}/${name}` : name;
      if (stats?.isDirectory()) walk(file, inside);
      else if (stats?.isFile()) files.push({ file, relative: inside });
    }
  };
  walk(dir.path, '');
  return files;
}

/** A digest of an input's code: the same whenever every file has the same path in its dir and the same bytes, wherever the dirs are. */
export function codeDigest(dirs: readonly DiscoveredDir[]): string {
  const hash = createHash('sha256');
  dirs.forEach((dir, i) => {
    for (const { file, relative } of codeFiles(dir)) hash.update(`${i}\0${relative}\0`).update(readFileSync(file)).update('\0');
  });
  return hash.digest('hex');
}
