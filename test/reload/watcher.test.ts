import assert from 'node:assert/strict';
import { appendFileSync, linkSync, mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ChangeWatcher, type Watched } from '../../src/reload/watcher.js';
import { ReloadEvents } from '../../src/telemetry/events/reload-events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { tempTree, within } from '../helpers/fixtures.js';

/** A watcher on `watched` whose settled changes come out of next(), one batch at a time. */
function watching(watched: Watched) {
  const batches: string[][] = [];
  let wake: (() => void) | undefined;
  const watcher = new ChangeWatcher({
    changed: (files) => {
      batches.push(files);
      wake?.();
    },
    settleMs: 100,
    events: new ReloadEvents(silentLogger, createMetrics('test')),
  });
  watcher.watch(watched);
  opened.push(watcher);
  const next = async (what: string): Promise<string[]> => {
    if (batches.length === 0) await within(new Promise<void>((resolve) => (wake = resolve)), 10_000, what);
    return batches.shift()!;
  };
  return { next };
}

const opened: ChangeWatcher[] = [];
afterEach(() => {
  for (const watcher of opened.splice(0)) watcher.close();
});

/** What `sed -i` and vim do by default: the new text in a new file, renamed over the old one. */
function replace(file: string, text: string, temp = path.join(path.dirname(file), 'sedMs9lIJ')): void {
  writeFileSync(temp, text);
  renameSync(temp, file);
}

describe('the change watcher', () => {
  it('hears the config file written in place, replaced by an editor, and then written in place again', async () => {
    const root = tempTree({ 'conf/pythond.toml': 'a = 1\n' });
    const file = path.join(root, 'conf/pythond.toml');
    const { next } = watching({ files: [file], dirs: [], configDirs: [] });
    appendFileSync(file, 'b = 2\n');
    assert.deepEqual(await next('the write in place'), [file]);
    replace(file, 'a = 3\n');
    assert.deepEqual(await next('the replacement'), [file], 'the temporary file is not named');
    appendFileSync(file, 'c = 4\n');
    assert.deepEqual(await next('a write in place into the new file'), [file]);
  });

  it('hears a write in place that does not go through the folder it watches (a file bind-mounted alone, a symbolic link)', async () => {
    const root = tempTree({ 'host/pythond.toml': 'a = 1\n', 'configmap/pythond.toml': 'a = 1\n' });
    mkdirSync(path.join(root, 'container'));
    // A hard link in another folder is one inode under two names, as a single-file bind mount is: the folder of the other name hears nothing.
    const mounted = path.join(root, 'container/pythond.toml');
    linkSync(path.join(root, 'host/pythond.toml'), mounted);
    const linked = path.join(root, 'pythond.toml');
    symlinkSync(path.join(root, 'configmap/pythond.toml'), linked);
    const { next: nextMounted } = watching({ files: [mounted], dirs: [], configDirs: [] });
    const { next: nextLinked } = watching({ files: [linked], dirs: [], configDirs: [] });
    appendFileSync(path.join(root, 'host/pythond.toml'), 'b = 2\n');
    assert.deepEqual(await nextMounted('the write through the other name'), [mounted]);
    appendFileSync(path.join(root, 'configmap/pythond.toml'), 'b = 2\n');
    assert.deepEqual(await nextLinked("the write to the link's target"), [linked]);
  });

  it("names the collector's file an editor saved, not its temporary files, ignores hidden files and Python's caches, and watches new subfolders", async () => {
    const root = tempTree({ 'python.d/mine/loadavg.py': 'x = 1\n' });
    const dir = path.join(root, 'python.d/mine');
    const script = path.join(dir, 'loadavg.py');
    const { next } = watching({ files: [], dirs: [dir], configDirs: [] });
    replace(script, 'x = 2\n');
    assert.deepEqual(await next('the replacement of loadavg.py'), [script]);
    // vim: a test file created and deleted, a swap file kept beside the script, then the script written.
    writeFileSync(path.join(dir, '4913'), '');
    unlinkSync(path.join(dir, '4913'));
    writeFileSync(path.join(dir, '.loadavg.py.swp'), 'swap');
    mkdirSync(path.join(dir, '__pycache__'));
    writeFileSync(path.join(dir, '__pycache__/loadavg.cpython-311.pyc'), '');
    writeFileSync(script, 'x = 3\n');
    assert.deepEqual(await next('the write of loadavg.py'), [script]);
    // Alone, a hidden file changes nothing: the next batch is the next real change.
    writeFileSync(path.join(dir, '.loadavg.py.swp'), 'swap again');
    writeFileSync(path.join(dir, 'other.py'), 'y = 1\n');
    assert.deepEqual(await next('the new script'), [path.join(dir, 'other.py')]);
    // A subfolder that appears is watched too.
    mkdirSync(path.join(dir, 'sub'));
    assert.deepEqual(await next('the new subfolder'), [path.join(dir, 'sub')]);
    writeFileSync(path.join(dir, 'sub/helper.py'), 'z = 1\n');
    assert.deepEqual(await next('the script in the new subfolder'), [path.join(dir, 'sub/helper.py')]);
    replace(path.join(dir, 'sub/helper.py'), 'z = 2\n', path.join(dir, 'sub/sedXXXXXX'));
    assert.deepEqual(await next('the replaced script in the new subfolder'), [path.join(dir, 'sub/helper.py')]);
  });

  it('hears a conf.d laid out as Kubernetes mounts a ConfigMap: a new version is a hidden folder and the hidden ..data link swapped to it', async () => {
    const root = tempTree({ 'conf.d/..2024_01_01/py.conf': 'a = 1\n' });
    const confD = path.join(root, 'conf.d');
    symlinkSync('..2024_01_01', path.join(confD, '..data'));
    symlinkSync('..data/py.conf', path.join(confD, 'py.conf'));
    const { next } = watching({ files: [], dirs: [], configDirs: [confD] });
    // What the kubelet does on an update: the new version beside the old, a new link to it renamed over ..data.
    mkdirSync(path.join(confD, '..2024_02_02'));
    writeFileSync(path.join(confD, '..2024_02_02/py.conf'), 'a = 2\n');
    symlinkSync('..2024_02_02', path.join(confD, '..data_tmp'));
    renameSync(path.join(confD, '..data_tmp'), path.join(confD, '..data'));
    assert.ok((await next('the swap of ..data')).length > 0);
    // A file written in a sub-folder of it (conf.d is read at any depth) too.
    mkdirSync(path.join(confD, 'db'));
    await next('the new sub-folder');
    writeFileSync(path.join(confD, 'db/mysql.conf'), '[inputs.mysql]\n');
    assert.deepEqual(await next('the new file in the sub-folder'), [path.join(confD, 'db/mysql.conf')]);
  });
});
