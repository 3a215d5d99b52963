import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { exitOf } from '../helpers/child-exit.js';
import { TICK_COLLECTOR } from '../helpers/collectors.js';
import { requireDocker } from '../helpers/docker.js';
import { exec } from '../helpers/exec.js';
import { dedent, REPO_ROOT, tempTree, waitFor } from '../helpers/fixtures.js';

const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

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
    let runner: number | undefined;
    try {
      runner = Number(await waitFor(() => /starting with .* \(pid (\d+)\)/.exec(log)?.[1], 'the runner to start', 60_000));
      await waitFor(() => log.includes('running 1 input(s)'), 'the runner to run', 60_000);
      npm.kill('SIGTERM');
      await exitOf(npm, 'npm to exit on SIGTERM', { log: () => log });
      await waitFor(() => !alive(runner!), `the runner (pid ${runner}) to stop with npm`);
      assert.match(log, /SIGTERM received/);
    } finally {
      if (runner !== undefined && alive(runner)) process.kill(runner, 'SIGKILL');
    }
  });

  it('stops cleanly on a Ctrl-C under `npm start` (SIGINT to the process group, which npm forwards to the runner again)', async () => {
    const root = tempTree({
      'python.d/idle/idle.py': IDLE_COLLECTOR,
      'pythond.toml': '[runner]\nexecutor = "process"\nlisten = "127.0.0.1:0"\n[[inputs.pythond]]\nname = "idle"\ndirs = ["idle"]\n[[outputs.stdout]]\n',
    });
    // A process group of its own, as a terminal's foreground job is.
    const npm = spawn('npm', ['start', '--', '--config', path.join(root, 'pythond.toml')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let log = '';
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    let runner: number | undefined;
    try {
      runner = Number(await waitFor(() => /starting with .* \(pid (\d+)\)/.exec(log)?.[1], 'the runner to start', 60_000));
      await waitFor(() => log.includes('running 1 input(s)'), 'the runner to run', 60_000);
      process.kill(-npm.pid!, 'SIGINT');
      await waitFor(() => !alive(runner!), `the runner (pid ${runner}) to stop`);
      assert.match(log, /SIGINT received/);
      assert.doesNotMatch(log, /second signal/);
      assert.match(log, /"msg":"stopped"/, 'the runner went through its whole shutdown');
    } finally {
      if (runner !== undefined && alive(runner)) process.kill(runner, 'SIGKILL');
      if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, 'SIGKILL');
    }
  });

  it('exits at once on a second signal a second or more after the first, with a tick still running', async () => {
    const root = tempTree({
      'python.d/slow/slow.py':
        'import time\nfrom datakit_framework import DataKitFramework\n\nclass Slow(DataKitFramework):\n    interval = 1\n\n    def run(self):\n        print("tick", flush=True)\n        time.sleep(600)\n',
      'pythond.toml':
        '[runner]\nexecutor = "process"\nlisten = "127.0.0.1:0"\nshutdown_timeout = "5m"\n[[inputs.pythond]]\nname = "slow"\ndirs = ["slow"]\ntimeout = "10m"\n[[outputs.stdout]]\n',
    });
    const runner = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/src/main.js'), 'run', '--config', path.join(root, 'pythond.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    try {
      await waitFor(() => log.includes('"msg":"tick"'), 'a tick to be running', 60_000);
      runner.kill('SIGTERM');
      await waitFor(() => log.includes('SIGTERM received'), 'the first signal to be taken');
      // Repeats within a second are the same signal (npm's forward of a Ctrl-C): signal again until one past that window ends it.
      await waitFor(
        () => {
          if (runner.exitCode !== null || runner.signalCode !== null) return true;
          runner.kill('SIGINT');
          return false;
        },
        'the runner to exit on a later signal',
        20_000,
        100,
      );
      const { code } = await exitOf(runner, 'the runner to exit', { log: () => log });
      assert.equal(code, 1);
      assert.match(log, /second signal: exiting without waiting/);
    } finally {
      if (runner.exitCode === null && runner.signalCode === null) runner.kill('SIGKILL');
    }
  });

  it('ships the runner with its SDK, demo collectors, license, changelog, docs and systemd unit, and neither tests nor benchmarks', async () => {
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
    const files = new Set((JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path));
    for (const file of [
      'dist/src/main.js',
      'dist/workers/encode.js',
      'python.d/core/host.py',
      'python.d/core/pythond_host/cli.py',
      'python.d/core/datakit_framework.py',
      'python.d/demo/general.py',
      'LICENSE',
      'CHANGELOG.md',
      'deploy/pythond.service',
      'docs/install.md',
      'docker/build-images.sh',
    ]) {
      assert.ok(files.has(file), `${file} is in the package`);
    }
    assert.deepEqual(
      [...files].filter((file) => /^dist\/(test|bench)\/|__pycache__/.test(file)),
      [],
    );
  });

  it('installs from its `npm pack` tarball into an empty prefix, and runs from an empty folder: --version, validate, check and run', {
    timeout: 10 * 60_000,
  }, async (t) => {
    if (!(await requireDocker(t))) return;
    const packed = tempTree();
    // The runner built for these tests is packed as it is (--ignore-scripts: no rebuild under the running suite).
    const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packed], { cwd: REPO_ROOT });
    const tarball = path.join(packed, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
    const prefix = tempTree();
    await exec('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: packed, timeoutMs: 5 * 60_000 });
    const installed = path.join(prefix, 'lib/node_modules/pythond');
    const bin = path.join(prefix, 'bin/pythond');
    const folder = tempTree();
    const inFolder = { cwd: folder };

    assert.equal((await exec(bin, ['--version'], inFolder)).stdout, `pythond ${version} (collector host protocol ${PROTOCOL_VERSION})\n`);

    // No config here: the embedded one, whose demo collectors are the package's.
    const validated = await exec(bin, ['validate'], inFolder);
    assert.match(validated.stdout, new RegExp(`python_d ${installed}/python\\.d\n`));
    assert.match(validated.stdout, /input demo \(warm\): 4 script\(s\), 4 collector\(s\)/);
    assert.deepEqual(readdirSync(folder), [], 'validate leaves the folder as it was');

    // A collector of the user's, in a container, with the SDK and host of the package.
    mkdirSync(path.join(folder, 'python.d/mine'), { recursive: true });
    writeFileSync(path.join(folder, 'python.d/mine/tick.py'), dedent(TICK_COLLECTOR));
    const checked = await exec(bin, ['check', 'python.d/mine', '--executor', 'docker'], inFolder);
    assert.match(checked.stderr, /tick\.Tick: ok, 1 point\(s\)/);
    assert.match(checked.stdout, /"measurement":"tick"/);

    writeFileSync(
      path.join(folder, 'pythond.toml'),
      '[runner]\nexecutor = "docker"\nlisten = "127.0.0.1:0"\n[[inputs.pythond]]\nname = "mine"\ndirs = ["mine"]\nnetwork = "none"\n[[outputs.file]]\npath = "data/points.jsonl"\n',
    );
    const runner = spawn(bin, ['run'], { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    try {
      const points = path.join(folder, 'data/points.jsonl');
      await waitFor(() => existsSync(points) && readFileSync(points, 'utf8').includes('"measurement":"tick"'), 'a point of the installed runner', 60_000);
      runner.kill('SIGTERM');
      const { code } = await exitOf(runner, 'the installed runner to stop on SIGTERM', { log: () => log });
      assert.equal(code, 0, log);
    } finally {
      if (runner.exitCode === null && runner.signalCode === null) runner.kill('SIGKILL');
    }
  });
});
