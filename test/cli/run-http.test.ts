import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { startRunner } from '../helpers/cli.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';

/** A config for `pythond run` in a temp tree, listening on `listen`. */
function configFile(listen: string): string {
  const root = tempTree({
    'python.d/idle/idle.py': IDLE_COLLECTOR,
    'pythond.toml': `
      [runner]
      executor = "process"
      listen = "${listen}"
      [[inputs.pythond]]
      name = "idle"
      dirs = ["idle"]
      [[outputs.file]]
      path = "data/points.jsonl"
    `,
  });
  return path.join(root, 'pythond.toml');
}

test('pythond run serves the HTTP API on [runner] listen, logs where, and stops on SIGTERM', async () => {
  const run = startRunner(['--config', configFile('127.0.0.1:0')]);
  try {
    const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.log())?.[1], 'the listening line');
    const ping = (await (await fetch(`${url}/v1/ping`)).json()) as { content: { version: string } };
    assert.equal(typeof ping.content.version, 'string');
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'the app to have started');
  } finally {
    run.child.kill('SIGTERM');
  }
  const { code } = await run.exited('pythond to stop on SIGTERM');
  assert.equal(code, 0, run.log());
});

test('pythond run with a listen address already in use exits 1 with one line naming runner.listen', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    const run = startRunner(['--config', configFile(`127.0.0.1:${port}`)]);
    const { code } = await run.exited('pythond to exit with the listen address in use');
    assert.equal(code, 1);
    const last = run.log().trimEnd().split('\n').at(-1)!;
    assert.equal(
      last,
      `pythond: runner.listen = "127.0.0.1:${port}": cannot serve the HTTP API there: the address is already in use (another pythond, or a DataKit?); set another [runner] listen address`,
    );
    assert.doesNotMatch(run.log(), /collector host .* started/, 'no collector started');
  } finally {
    holder.close();
  }
});
