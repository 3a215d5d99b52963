import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, type TestContext } from 'node:test';
import { cannotRun } from './required.js';

/**
 * A real, small file system: a tmpfs of `size` (e.g. "1m") mounted on a temp
 * folder, unmounted after the test file. Needs root (CI runs as root);
 * elsewhere the test is skipped with the reason, and in CI it fails.
 */
export function smallDisk(t: TestContext, size: string): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pythond-disk-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    cannotRun(t, `needs a ${size} tmpfs, which only root can mount: ${mount.stderr.trim() || mount.error?.message}`);
    return undefined;
  }
  after(() => {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
