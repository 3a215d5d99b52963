import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { ReloadEvents } from '../telemetry/events/reload-events.js';

const K8S_DATA_LINK = '..data';

/** What to watch: files (the config file, the files secrets are read from), and folders of collectors (with everything below them). */
export interface Watched {
  files: string[];
  dirs: string[];
}

/**
 * Watches the config file and the collectors' folders, and calls `changed`
 * once things have settled (editors and `git checkout` write in bursts).
 * The file is watched through its folder, by name: editors replace a file
 * rather than write it, and a watch on the old file would see nothing more.
 */
export class ChangeWatcher {
  readonly #changed: (what: string) => void;
  readonly #settleMs: number;
  readonly #events: ReloadEvents;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #first: string | undefined;

  constructor(options: { changed: (what: string) => void; settleMs?: number; events: ReloadEvents }) {
    this.#changed = options.changed;
    this.#settleMs = options.settleMs ?? 500;
    this.#events = options.events;
  }

  /** Watches `watched` instead of what was watched so far. */
  watch(watched: Watched): void {
    this.#unwatch();
    for (const file of new Set(watched.files)) {
      const name = path.basename(file);
      // Kubernetes updates a mounted Secret or ConfigMap by pointing `..data` at a new folder: `file` is a link through it.
      this.#add(path.dirname(file), false, (changed) => changed === name || changed === K8S_DATA_LINK, file);
    }
    for (const dir of new Set(watched.dirs)) this.#add(dir, true, () => true, dir);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#unwatch();
  }

  #add(target: string, recursive: boolean, matches: (name: string) => boolean, what: string): void {
    try {
      const watcher = watch(target, { recursive, persistent: false }, (_event, name) => {
        if (name === null || matches(name.toString())) this.#settle(recursive ? path.join(what, name?.toString() ?? '') : what);
      });
      watcher.on('error', (err) => this.#events.watchFailed(target, err.message));
      this.#watchers.push(watcher);
    } catch (err) {
      this.#events.watchFailed(target, (err as Error).message);
    }
  }

  #settle(what: string): void {
    this.#first ??= what;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const first = this.#first!;
      this.#first = undefined;
      this.#changed(first);
    }, this.#settleMs);
  }

  #unwatch(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
  }
}
