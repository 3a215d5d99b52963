import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';

/** One collector script, as DataKit's pythond would import it. */
export interface CollectorModule {
  /** Import name: `<stem>` for a file directly in the folder, `<subfolder>.<stem>` one level down. */
  module: string;
  /** Absolute path of the `.py` file. */
  file: string;
}

export interface DiscoveredDir {
  /** The `dirs` entry as written in the config. */
  entry: string;
  /** Absolute path of the folder (or single file). */
  path: string;
  /** The folder its scripts import their siblings from: `path`, or the single file's folder. */
  folder: string;
  modules: CollectorModule[];
}

/** Why a `dirs` entry cannot be used; the caller adds the config key. */
export class DiscoveryProblem extends Error {}

/** A path as short as it can be said: relative to the working directory when inside it. */
export function displayPath(target: string): string {
  const relative = path.relative(process.cwd(), target);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : target;
}

// As Python sees modules: `.py` exactly (an `x.PY` file cannot be imported), names in code point order.
const isPython = (name: string): boolean => name.endsWith('.py') && name !== '__init__.py';
const stem = (name: string): string => name.slice(0, -'.py'.length);
const byCodePoint = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function listDir(dir: string): { files: string[]; folders: string[] } {
  const files: string[] = [];
  const folders: string[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new DiscoveryProblem(`folder ${displayPath(dir)} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  for (const entry of entries.sort(byCodePoint)) {
    if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
    // Symbolic links count as what they point to (Kubernetes mounts a ConfigMap's files as links).
    const stats = entry.isSymbolicLink() ? statSync(path.join(dir, entry.name), { throwIfNoEntry: false }) : entry;
    if (stats?.isDirectory()) folders.push(entry.name);
    else if (stats?.isFile() && isPython(entry.name)) files.push(entry.name);
  }
  return { files, folders };
}

/**
 * Finds the collector modules of one `dirs` entry the way DataKit does: `.py`
 * files directly in the folder, then those of its immediate subfolders
 * (depth 2), skipping `__init__.py` and hidden entries. An entry may also
 * name a single `.py` file. This is the only discovery: the collector host
 * imports the modules it is given.
 */
export function discoverDir(pythonD: string, entry: string): DiscoveredDir {
  const target = path.resolve(pythonD, entry);
  let stats: Stats;
  try {
    stats = statSync(target);
  } catch {
    throw new DiscoveryProblem(`folder ${displayPath(target)} does not exist`);
  }
  if (stats.isFile()) {
    if (!isPython(path.basename(target))) throw new DiscoveryProblem(`${displayPath(target)} is neither a folder nor a .py collector script`);
    return { entry, path: target, folder: path.dirname(target), modules: [{ module: stem(path.basename(target)), file: target }] };
  }
  if (!stats.isDirectory()) throw new DiscoveryProblem(`${displayPath(target)} is not a folder`);

  const top = listDir(target);
  const modules: CollectorModule[] = top.files.map((name) => ({ module: stem(name), file: path.join(target, name) }));
  for (const folder of top.folders) {
    for (const name of listDir(path.join(target, folder)).files) {
      modules.push({ module: `${folder}.${stem(name)}`, file: path.join(target, folder, name) });
    }
  }
  if (modules.length === 0) {
    throw new DiscoveryProblem(`folder ${displayPath(target)} has no collector scripts (*.py, not __init__.py) in it or its subfolders`);
  }
  return { entry, path: target, folder: target, modules };
}
