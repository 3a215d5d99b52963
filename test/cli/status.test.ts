import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitOf } from '../helpers/child-exit.js';
import { MAIN, pythond, startRunner } from '../helpers/cli.js';
import { freePort } from '../helpers/fixtures.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';

function statusConfig(listen: string, scripts: 'all' | 'good' = 'all'): string {
  const root = tempTree({
    'python.d/s/good.py': `
      from datakit_framework import DataKitFramework

      class Good(DataKitFramework):
          interval = 3600

          def run(self):
              self.feed_metric(measurement='m', fields={'v': 1})
    `,
    [scripts === 'all' ? 'python.d/s/failing.py' : 'python.d/s/.unused_failing.py']: `
      from datakit_framework import DataKitFramework

      class Failing(DataKitFramework):
          interval = 3600

          def run(self):
              raise RuntimeError('cannot reach the database\\nsecond line')
    `,
    [scripts === 'all' ? 'python.d/s/broken.py' : 'python.d/s/.unused_broken.py']: 'def oops(:\n',
    'pythond.toml': `
      [runner]
      executor = "process"
      listen = "${listen}"
      [[inputs.pythond]]
      name = "s"
      dirs = ["s"]
      [[outputs.file]]
      path = "data/points.jsonl"
    `,
  });
  return path.join(root, 'pythond.toml');
}

/** The runner at `target` as a runner of 0.2.0 answers: its /v1/collectors without `problems`. */
async function olderRunner(target: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const answer = await fetch(`${target}${request.url}`);
    const body = (await answer.json()) as Record<string, unknown>;
    if (request.url === '/v1/collectors') delete body.problems;
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('pythond status', () => {
  it("shows a running runner's collectors, load errors and outputs as tables, from its config's listen address", async () => {
    const port = await freePort();
    const config = statusConfig(`127.0.0.1:${port}`);
    const runner = startRunner(['--config', config], { env: { PYTHOND_HOSTNAME: 'web01' } });
    try {
      await waitFor(async () => {
        const { stdout } = await pythond(['status', '--config', config]);
        return /failing\.Failing .* 1 +1 +RuntimeError/.test(stdout) && /good\.Good .* 1 +0/.test(stdout);
      }, 'both collectors to have run once');
      const { code, stdout, stderr } = await pythond(['status', '--config', config]);
      assert.equal(code, 1, stderr);
      const lines = stdout.split('\n');
      assert.match(
        lines[0]!,
        new RegExp(`^pythond \\S+ at http://127\\.0\\.0\\.1:${port}: up \\S+, process executor, host web01 \\(from PYTHOND_HOSTNAME\\)$`),
      );
      assert.equal(lines[1], '');
      assert.match(lines[2]!, /^INPUT +COLLECTOR +STATE +LAST RUN +DURATION +RUNS +FAILURES +LAST ERROR$/);
      assert.match(stdout, /^s +failing\.Failing +failing, backing off +\d+(ms|s) ago +\d+\.\d ms +1 +1 +RuntimeError: cannot reach the database$/m);
      assert.match(stdout, /^s +good\.Good +idle +\d+(ms|s) ago +\d+\.\d ms +1 +0$/m);
      assert.match(stdout, /^input s cannot load s\/broken\.py:1: SyntaxError: invalid syntax/m);
      assert.match(stdout, /^OUTPUT +TO +BUFFERED +LAST SUCCESS +LAST ERROR\nfile\[0\] +\/\S+\/points\.jsonl +0 +\d+(ms|s) ago$/m);
      // Last, what is not healthy: what a script that got exit 1 wants to know.
      assert.match(
        stdout,
        /\n\nnot healthy \(2\):\n {2}input s is degraded: 1 script\(s\) failed to load: s\/broken\.py:1: SyntaxError: .*\n {2}s\/failing\.Failing is failing \(backing off, 1 failed tick\(s\) in a row\): RuntimeError: cannot reach the database\n$/,
      );

      // A runner of 0.2.0 (the package upgraded, the service not restarted yet) lists no problems: its /healthz says.
      const older = await olderRunner(`http://127.0.0.1:${port}`);
      try {
        const { code: olderCode, stdout: olderOut } = await pythond(['status', '--url', older.url]);
        assert.equal(olderCode, 1, olderOut);
        assert.match(olderOut, /\n\nnot healthy \(1\):\n {2}this runner \(pythond \S+\) does not list what is not healthy: its \/healthz says degraded\n$/);
      } finally {
        older.server.close();
      }
    } finally {
      await runner.stop();
    }
  });

  it('exits 0 and says "all healthy" when all is; --watch draws it again every 2 s until Ctrl-C', async () => {
    const port = await freePort();
    const config = statusConfig(`127.0.0.1:${port}`, 'good');
    const runner = startRunner(['--config', config]);
    try {
      const healthy = await waitFor(async () => {
        const status = await pythond(['status', '--config', config]);
        return /good\.Good .* 1 +0/.test(status.stdout) && status;
      }, 'the collector to have run once');
      assert.equal(healthy.code, 0, healthy.stdout);
      assert.match(healthy.stdout, /\n\nall healthy\n$/);

      // Not on a terminal, drawings come one after the other.
      const watching = spawn(process.execPath, [MAIN, 'status', '--watch', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let drawn = '';
      watching.stdout.on('data', (chunk) => (drawn += chunk));
      await waitFor(() => (drawn.match(/all healthy\n/g)?.length ?? 0) >= 2, 'two drawings', 20_000);
      assert.match(drawn, /^every 2 s, Ctrl-C to stop; .*\npythond \S+ at http:\/\/127\.0\.0\.1:\d+: up/);
      watching.kill('SIGINT');
      assert.deepEqual(await exitOf(watching, '--watch to end on SIGINT', { timeoutMs: 10_000 }), { code: 0, signal: null });
    } finally {
      await runner.stop();
    }
  });

  it('exits 2 with one line when no runner answers', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await pythond(['status', '--url', `http://127.0.0.1:${port}`]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `pythond status: no pythond answers at http://127.0.0.1:${port} (ECONNREFUSED); is \`pythond run\` running there? (--url URL, --config FILE)\n`,
    );
  });

  it('asks for --url when the config lets the runner pick its port', async () => {
    const { code, stderr } = await pythond(['status', '--config', statusConfig('127.0.0.1:0')]);
    assert.equal(code, 2);
    assert.equal(stderr.split('\n')[0], 'pythond status: [runner] listen = "127.0.0.1:0" picks a free port at start: give the runner\'s address with --url');
  });
});
