import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { exec } from '../helpers/exec.js';
import { REPO_ROOT, tempTree, waitFor } from '../helpers/fixtures.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the npm package', () => {
  it('stops the runner with `npm start` when npm gets SIGTERM (the runner does not live on alone)', async () => {
    const root = tempTree({
      'python.d/idle/idle.py': IDLE_COLLECTOR,
      'pythond.toml': '[runner]\nexecutor = "process"\nlisten = "127.0.0.1:0"\n[[inputs.pythond]]\nname = "idle"\ndirs = ["idle"]\n[[outputs.stdout]]\n',
    });
    const npm = spawn('npm', ['start', '--', '--config', path.join(root, 'pythond.toml')], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    const exited = once(npm, 'exit');
    let runner: number | undefined;
    try {
      runner = Number(await waitFor(() => /starting with .* \(pid (\d+)\)/.exec(log)?.[1], 'the runner to start', 60_000));
      await waitFor(() => log.includes('running 1 input(s)'), 'the runner to run', 60_000);
      npm.kill('SIGTERM');
      await exited;
      await waitFor(() => !alive(runner!), `the runner (pid ${runner}) to stop with npm`);
      assert.match(log, /SIGTERM received/);
    } finally {
      if (runner !== undefined && alive(runner)) process.kill(runner, 'SIGKILL');
    }
  });

  it('ships the demo collectors its embedded config runs, with the SDK and the built runner', async () => {
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path));
    for (const file of ['dist/src/main.js', 'python.d/core/host.py', 'python.d/core/datakit_framework.py', 'python.d/demo/general.py']) {
      assert.ok(files.has(file), `${file} is in the package`);
    }
  });
});
