import { existsSync, readdirSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isCodePath } from '../discovery/code-files.js';
import type { ReloadEvents } from '../telemetry/events/reload-events.js';

/** What to watch: files (the config file, a collector given as one script), folders of collectors, and folders of config files (a conf.d); each folder with everything below it. */
export interface Watched {
  files: string[];
  dirs: string[];
  configDirs: string[];
}

/**
 * Watches the config file and the collectors' folders, and calls `changed`
 * once things have settled (editors and `git checkout` write in bursts),
 * with the files that changed and still exist first: an editor's temporary
 * file (`sedMs9lIJ`, vim's `4913`), renamed or deleted by then, is not
 * named. In collectors' folders, files their code leaves out (hidden ones
 * such as vim's `.x.py.swp`, `__pycache__`) change nothing.
 *
 * A file is watched twice. Through its folder, by name: editors replace a
 * file (write a new one, rename it over the old), and the folder sees the
 * new one arrive. And itself: a write in place that did not go through this
 * folder (the file bind-mounted alone into a container and edited on the
 * host; the target of a symbolic link, as Kubernetes mounts a ConfigMap) is
 * heard only on the file. That watch follows the file's name: it is taken
 * again on the file now there each time it fires.
 *
 * A folder is watched folder by folder (its subfolders too, and those that
 * appear), never file by file: node's own recursive watch on
 * Linux watches each file, and loses a file an editor replaced.
 */
export class ChangeWatcher {
  readonly #changed: (files: string[]) => void;
  readonly #settleMs: number;
  readonly #events: ReloadEvents;
  #watchers: FSWatcher[] = [];
  /** The folders watched, by real path. */
  readonly #folders = new Set<string>();
  /** The watched files, each with the watch on the file itself (none while it is missing). */
  readonly #files = new Map<string, FSWatcher | undefined>();
  #timer: NodeJS.Timeout | undefined;
  /** What changed since things were last settled, in the order first heard. */
  #pending = new Set<string>();

  constructor(options: { changed: (files: string[]) => void; settleMs?: number; events: ReloadEvents }) {
    this.#changed = options.changed;
    this.#settleMs = options.settleMs ?? 500;
    this.#events = options.events;
  }

  /** Watches `watched` instead of what was watched so far. */
  watch(watched: Watched): void {
    this.#unwatch();
    for (const file of new Set(watched.files)) {
      const name = path.basename(file);
      this.#add(path.dirname(file), (changed) => (changed === name ? file : undefined));
      this.#watchFile(file);
    }
    for (const dir of new Set(watched.dirs)) this.#watchTree(dir, dir, isCodePath);
    // Every change of a conf.d counts: Kubernetes mounts a new version of a ConfigMap by swapping its hidden `..data` link.
    for (const dir of new Set(watched.configDirs)) this.#watchTree(dir, dir, () => true);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#unwatch();
  }

  /** Watches the folder `target`; `which` says what a change of `name` in it is, if it matters. */
  #add(target: string, which: (name: string) => string | undefined): void {
    const watcher = this.#open(target, (name) => {
      const changed = name === null ? target : which(name);
      if (changed) this.#settle(changed);
    });
    if (watcher) this.#watchers.push(watcher);
  }

  /** Watches `dir`, a folder below `root`, and its subfolders, and those that appear in it later; `matters` says which paths (relative to `root`) count. */
  #watchTree(root: string, dir: string, matters: (relative: string) => boolean): void {
    let real: string;
    try {
      real = realpathSync(dir);
    } catch (err) {
      this.#events.watchFailed(dir, (err as Error).message);
      return;
    }
    // Each folder once, also when reached through a symbolic link (a loop of them ends here).
    if (this.#folders.has(real)) return;
    this.#folders.add(real);
    this.#add(dir, (name) => {
      const changed = path.join(dir, name);
      if (!matters(path.relative(root, changed))) return undefined;
      if (isFolder(changed)) this.#watchTree(root, changed, matters);
      return changed;
    });
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // Gone meanwhile: its parent's watch says so.
    }
    for (const name of names) {
      const sub = path.join(dir, name);
      if (matters(path.relative(root, sub)) && isFolder(sub)) this.#watchTree(root, sub, matters);
    }
  }

  /** (Re)watches `file` as it is now; missing for a moment (being replaced), its folder's watch sees it come back. */
  #watchFile(file: string): void {
    this.#files.get(file)?.close();
    this.#files.set(file, existsSync(file) ? this.#open(file, () => this.#settle(file)) : undefined);
  }

  #open(target: string, heard: (name: string | null) => void): FSWatcher | undefined {
    try {
      const watcher = watch(target, { persistent: false }, (_event, name) => heard(name === null ? null : name.toString()));
      watcher.on('error', (err) => this.#events.watchFailed(target, err.message));
      return watcher;
    } catch (err) {
      this.#events.watchFailed(target, (err as Error).message);
      return undefined;
    }
  }

  #settle(changed: string): void {
    if (this.#files.has(changed)) this.#watchFile(changed);
    this.#pending.add(changed);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const pending = [...this.#pending];
      this.#pending = new Set();
      for (const file of this.#files.keys()) this.#watchFile(file);
      const there = pending.filter((file) => existsSync(file));
      this.#changed(there.length > 0 ? there : pending);
    }, this.#settleMs);
  }

  #unwatch(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    this.#folders.clear();
    for (const watcher of this.#files.values()) watcher?.close();
    this.#files.clear();
  }
}

const isFolder = (target: string): boolean => statSync(target, { throwIfNoEntry: false })?.isDirectory() ?? false;
