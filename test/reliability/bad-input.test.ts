import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startRunner } from '../helpers/cli.js';
import { TICK_COLLECTOR } from '../helpers/collectors.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';

const ticks = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
const matches = (text: string, pattern: RegExp): number => text.split('\n').filter((line) => pattern.test(line)).length;

describe('a runner with one bad input', () => {
  it("keeps running the others when an input's cmd does not exist, retries it, shows why, and lives through SIGHUP", async () => {
    const root = tempTree({
      'python.d/tick/tick.py': TICK_COLLECTOR,
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"

        [[inputs.pythond]]
        name = "mine"
        cmd = "/nonexistent/python3"
        dirs = ["tick"]

        [[inputs.pythond]]
        name = "good"
        dirs = ["tick"]

        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    const points = path.join(root, 'data/points.jsonl');
    const runner = startRunner(['--config', 'pythond.toml'], { cwd: root });
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
      // The bad input is tried again (with growing pauses) while the good one ticks on.
      await waitFor(
        () => matches(runner.log(), /input mine cannot start: .*\/nonexistent\/python3.*ENOENT.*retrying in/) >= 2,
        'a second failed start of mine',
        30_000,
      );
      const before = ticks(points);
      await waitFor(() => ticks(points) >= before + 2, 'the good input ticking on');
      assert.equal(runner.child.exitCode, null, 'the runner is alive');

      const status = (await (await fetch(`${url}/v1/collectors`)).json()) as { inputs: { input: string; state: string; error?: string }[] };
      const mine = status.inputs.find((input) => input.input === 'mine')!;
      assert.equal(mine.state, 'failed');
      assert.match(
        mine.error!,
        /cannot start the collector host with inputs\.pythond\[0\]\.cmd = "\/nonexistent\/python3": spawn \/nonexistent\/python3 ENOENT/,
      );
      assert.equal(status.inputs.find((input) => input.input === 'good')!.state, 'running');
      const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
      assert.equal(health.status, 'degraded');

      runner.child.kill('SIGHUP');
      await waitFor(() => /reload \(SIGHUP\) ok in [\d.]+ ms: nothing changed/.test(runner.log()), 'the reload SIGHUP asked for');
      const afterHangUp = ticks(points);
      await waitFor(() => ticks(points) > afterHangUp, 'a tick after SIGHUP');
      assert.equal(runner.child.exitCode, null, 'SIGHUP did not stop the runner');
    } finally {
      const { code } = await runner.stop();
      assert.equal(code, 0, runner.log());
    }
  });
});
