import assert from 'node:assert/strict';
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ChangeWatcher } from '../../src/reload/watcher.js';
import { ReloadEvents } from '../../src/telemetry/events/reload-events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';

test('a secret file is watched: replaced by a rename, and as Kubernetes updates a mounted Secret (..data pointed at a new folder)', async () => {
  const root = tempTree({ 'run/db': 'one\n', 'k8s/..2026_01/db': 'one\n' });
  const k8s = path.join(root, 'k8s');
  symlinkSync('..2026_01', path.join(k8s, '..data'));
  symlinkSync('..data/db', path.join(k8s, 'db'));
  const changes: string[] = [];
  const watcher = new ChangeWatcher({ changed: (what) => changes.push(what), settleMs: 50, events: new ReloadEvents(silentLogger, createMetrics('test')) });
  try {
    watcher.watch({ files: [path.join(root, 'run/db'), path.join(k8s, 'db')], dirs: [] });
    writeFileSync(path.join(root, 'run/db.tmp'), 'two\n');
    renameSync(path.join(root, 'run/db.tmp'), path.join(root, 'run/db'));
    await waitFor(() => changes.includes(path.join(root, 'run/db')), 'the renamed file to be seen');

    // What kubelet's atomic writer does: a new folder, a new link to it, renamed over ..data.
    mkdirSync(path.join(k8s, '..2026_02'));
    writeFileSync(path.join(k8s, '..2026_02/db'), 'two\n');
    symlinkSync('..2026_02', path.join(k8s, '..data_tmp'));
    renameSync(path.join(k8s, '..data_tmp'), path.join(k8s, '..data'));
    await waitFor(() => changes.includes(path.join(k8s, 'db')), 'the Kubernetes update to be seen');
    assert.ok(changes.length >= 2);
  } finally {
    watcher.close();
  }
});
