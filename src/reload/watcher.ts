import { existsSync, readdirSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { isCodePath } from '../discovery/code-files.js';
import type { ReloadEvents } from '../telemetry/events/reload-events.js';

/** What to watch: files (the config file, a collector given as one script), and folders of collectors (with everything below them). */
export interface Watched {
  files: string[];
  dirs: string[];
}

/**
 * Watches the config file and the collectors' folders, and calls `changed`
 * once things have settled (editors and `git checkout` write in bursts),
 * with the files that changed and still exist first: an editor's temporary
 * file (`sedMs9lIJ`, vim's `4913`), renamed or deleted by then, is not
 * named. Files the collectors' code leaves out (hidden ones such as vim's
 * `.x.py.swp`, `__pycache__`) change nothing.
 *
 * A file is watched twice. Through its folder, by name: editors replace a
 * file (write a new one, rename it over the old), and the folder sees the
 * new one arrive. And itself: a write in place that did not go through this
 * folder (the file bind-mounted alone into a container and edited on the
 * host; the target of a symbolic link, as Kubernetes mounts a ConfigMap) is
 * heard only on the file. That watch follows the file's name: it is taken
 * again on the file now there each time it fires.
 *
 * A collectors' folder is watched folder by folder (its subfolders too, and
 * those that appear), never file by file: node's own recursive watch on
 * Linux watches each file, and loses a file an editor replaced.
 */
export class ChangeWatcher {
  readonly #changed: (files: string[]) => void;
  readonly #settleMs: number;
  readonly #events: ReloadEvents;
  #watchers: FSWatcher[] = [];
  /** The collectors' folders watched, by real path. */
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
    for (const dir of new Set(watched.dirs)) this.#watchTree(dir, dir);
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

  /** Watches `dir`, a folder of the code below `root`, and its subfolders, and those that appear in it later. */
  #watchTree(root: string, dir: string): void {
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
      if (!isCodePath(path.relative(root, changed))) return undefined;
      if (isFolder(changed)) this.#watchTree(root, changed);
      return changed;
    });
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // Gone meanwhile: its parent's watch says so.
    }
    for (const name of names) if (isCodePath(name) && isFolder(path.join(dir, name))) this.#watchTree(root, path.join(dir, name));
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
