import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DiscoveredDir } from '../discovery/discover.js';
import type { InputTable, RunnerConfig } from './schema.js';

/** pip's requirements of an input: this file at the top of any folder named in its `dirs`. */
export const REQUIREMENTS_FILE = 'requirements.txt';

/**
 * What an input needs installed besides its base (the image, or the process
 * executor's python3), read with the config: a reload sees a change of any
 * of it, and its digest names what gets built.
 */
export interface InputDependencies {
  /** Debian packages (`apt`). */
  apt: string[];
  /** Each requirements.txt of the input's dirs, in `dirs` order, with its text as read. */
  requirements: { file: string; text: string }[];
  /** `pip_index_url` of the input, else of the runner; unset without requirements. */
  indexUrl?: string;
  /** `pip_find_links` of the input, else of the runner, with the files in it; unset without requirements. */
  findLinks?: { folder: string; files: string[] };
  /** A digest of all of the above, the files' bytes included: the same digest installs the same things. */
  digest: string;
}

/** Whether the input needs anything built before its hosts start: an image of its own (docker), a virtual environment (process). */
export const hasDependencies = (deps: InputDependencies): boolean => deps.apt.length > 0 || deps.requirements.length > 0;

/**
 * The dependencies of an input: its `apt`, the requirements.txt of its
 * folders, and where pip finds packages (only when there are requirements,
 * so a change of the runner's pip keys rebuilds only the inputs that use them).
 */
export function readDependencies(input: InputTable, dirs: readonly DiscoveredDir[], runner: RunnerConfig): InputDependencies {
  const requirements = dirs
    .filter((dir) => dir.path === dir.folder)
    .map((dir) => path.join(dir.folder, REQUIREMENTS_FILE))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile())
    .map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const hash = createHash('sha256').update(JSON.stringify({ apt: input.apt, requirements: requirements.map((r) => r.text) }));
  if (requirements.length === 0) return { apt: input.apt, requirements, digest: hash.digest('hex') };

  const indexUrl = input.pip_index_url ?? runner.pip_index_url;
  const folder = input.pip_find_links ?? runner.pip_find_links;
  hash.update(`\0index ${indexUrl ?? ''}`);
  let findLinks: InputDependencies['findLinks'];
  if (folder !== undefined) {
    // pip reads a find-links folder flat: every file at its top is a candidate.
    const files = readdirSync(folder)
      .filter((name) => !name.startsWith('.') && statSync(path.join(folder, name), { throwIfNoEntry: false })?.isFile())
      .sort();
    for (const name of files) hash.update(`\0wheel ${name}\0`).update(readFileSync(path.join(folder, name)));
    findLinks = { folder, files };
  }
  return { apt: input.apt, requirements, indexUrl, findLinks, digest: hash.digest('hex') };
}
