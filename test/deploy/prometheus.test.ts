import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { VERSION } from '../../src/version.js';
import { terminate } from '../helpers/child-exit.js';
import { MAIN } from '../helpers/cli.js';
import { freePort } from '../helpers/fixtures.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { TICK_COLLECTOR } from '../helpers/collectors.js';
import { cannotRun } from '../helpers/required.js';

const PROMETHEUS = '/usr/bin/prometheus';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Starts `cmd`, stopped (SIGTERM, then SIGKILL) when the test ends; its output is kept for failure messages. */
function start(t: TestContext, cmd: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  t.after(() => terminate(child, cmd, { log: () => output }));
  return { child, output: () => output.slice(-3000) };
}

describe('Prometheus scraping a runner', () => {
  it('finds pythond_build_info and the ticks through its query API', { timeout: 120_000 }, async (t) => {
    if (!existsSync(PROMETHEUS)) {
      cannotRun(t, `needs Prometheus at ${PROMETHEUS} (apt-get install prometheus)`);
      return;
    }
    const [runnerPort, prometheusPort] = [await freePort(), await freePort()];
    const root = tempTree({
      'python.d/c/tick.py': TICK_COLLECTOR,
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:${runnerPort}"
        [[inputs.pythond]]
        name = "ticks"
        dirs = ["c"]
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
      'prometheus.yml': `
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: pythond
            static_configs:
              - targets: ["127.0.0.1:${runnerPort}"]
      `,
    });
    const runner = start(t, process.execPath, [MAIN, 'run', '--config', path.join(root, 'pythond.toml')]);
    const prometheus = start(t, PROMETHEUS, [
      `--config.file=${path.join(root, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(root, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ]);

    const query = async (promql: string): Promise<Sample[]> => {
      const response = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
      if (!response?.ok) return [];
      return ((await response.json()) as { data: { result: Sample[] } }).data.result;
    };
    const failure = () => `\nrunner:\n${runner.output()}\nprometheus:\n${prometheus.output()}`;

    const [info] = (await waitFor(
      async () => {
        const result = await query('pythond_build_info');
        return result.length > 0 ? result : undefined;
      },
      `pythond_build_info in Prometheus${failure()}`,
      60_000,
      500,
    ))!;
    assert.deepEqual(info!.metric, { __name__: 'pythond_build_info', instance: `127.0.0.1:${runnerPort}`, job: 'pythond', version: VERSION });
    assert.equal(info!.value[1], '1');

    const [ticks] = (await waitFor(
      async () => {
        const result = await query('pythond_ticks_total{input="ticks",status="ok"}');
        return result.length > 0 && Number(result[0]!.value[1]) > 0 ? result : undefined;
      },
      `ok ticks in Prometheus${failure()}`,
      30_000,
      500,
    ))!;
    assert.equal(ticks!.metric.collector, 'tick.Tick');
  });
});
