import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { MAIN } from '../helpers/cli.js';
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

function runPythond(config: string) {
  const child = spawn(process.execPath, [MAIN, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, stderr: () => stderr, exited: once(child, 'exit') as Promise<[number | null, string | null]> };
}

test('pythond run serves the HTTP API on [runner] listen, logs where, and stops on SIGTERM', async () => {
  const run = runPythond(configFile('127.0.0.1:0'));
  try {
    const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr())?.[1], 'the listening line');
    const ping = (await (await fetch(`${url}/v1/ping`)).json()) as { content: { version: string } };
    assert.equal(typeof ping.content.version, 'string');
    await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, 'the app to have started');
  } finally {
    run.child.kill('SIGTERM');
  }
  const [code] = await run.exited;
  assert.equal(code, 0, run.stderr());
});

test('pythond run with a listen address already in use exits 1 with one line naming runner.listen', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    const run = runPythond(configFile(`127.0.0.1:${port}`));
    const [code] = await run.exited;
    assert.equal(code, 1);
    const last = run.stderr().trimEnd().split('\n').at(-1)!;
    assert.equal(
      last,
      `pythond: runner.listen = "127.0.0.1:${port}": cannot serve the HTTP API there: the address is already in use (another pythond, or a DataKit?); set another [runner] listen address`,
    );
    assert.doesNotMatch(run.stderr(), /collector host .* started/, 'no collector started');
  } finally {
    holder.close();
  }
});
