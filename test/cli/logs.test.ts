import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { CollectorsReport } from '../../src/http/api-types.js';
import { startRunner } from '../helpers/cli.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';

/**
 * A collector whose class says once an hour, run every 100 ms by its input's
 * `interval`: three runs fail with one error, the fourth reports a point,
 * the later ones fail with another error.
 */
const TROUBLED = `
  from datakit_framework import DataKitFramework

  class Troubled(DataKitFramework):
      interval = 3600

      def __init__(self):
          super().__init__()
          self.runs = 0

      def run(self):
          self.runs += 1
          if self.runs <= 3:
              raise ValueError('first trouble')
          if self.runs == 4:
              self.feed_metric(measurement='fine', fields={'v': 1})
              return
          raise KeyError('other trouble')
`;

function troubledConfig(runnerKeys = ''): string {
  const root = tempTree({
    'python.d/t/troubled.py': TROUBLED,
    'pythond.toml': `
      [runner]
      executor = "process"
      listen = "127.0.0.1:0"
      ${runnerKeys}
      [[inputs.pythond]]
      name = "t"
      dirs = ["t"]
      interval = "100ms"
      [[outputs.file]]
      path = "data/points.jsonl"
    `,
  });
  return path.join(root, 'pythond.toml');
}

const count = (text: string, pattern: RegExp): number => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe('the log of pythond run', () => {
  it("logs a repeated error in full once, then says after how many failures it cleared; a new error in full again; runs at the input's interval", async () => {
    const runner = startRunner(['--config', troubledConfig(), '--log-format', 'pretty']);
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
      const failures = async (): Promise<number> => {
        const report = (await (await fetch(`${url}/v1/collectors`)).json()) as CollectorsReport;
        return report.inputs[0]?.collectors[0]?.failures ?? 0;
      };
      // Three ValueErrors, then KeyErrors: three of them.
      await waitFor(async () => runner.log().includes("KeyError: 'other trouble'\n") && (await failures()) >= 6, 'the second error, three times');
    } finally {
      await runner.stop();
    }
    const log = runner.log();
    const lines = log.split('\n').filter((line) => /^\S/.test(line) && / (error|info) /.test(line) && /troubled/.test(line));
    const messages = lines.map((line) => line.replace(/^\S+ \w+ +/, ''));
    // Within a minute a repeat is counted, not logged again (test/telemetry/repeated-failures.test.ts has the line a minute).
    assert.deepEqual(messages.slice(0, 4), [
      'input=t collector=troubled.Troubled reason=exception: t/troubled.Troubled raised ValueError: first trouble',
      'input=t collector=troubled.Troubled: t/troubled.Troubled is ok again after 3 failed tick(s)',
      'input=t: input t is delivering points: the first 1, from troubled.Troubled, went to file[0]',
      "input=t collector=troubled.Troubled reason=exception: t/troubled.Troubled raised KeyError: 'other trouble'",
    ]);
    assert.equal(messages.length, 4, 'the second error, repeated, is said once');
    assert.equal(count(log, /Traceback \(most recent call last\)/), 2, 'one traceback per distinct error');
    assert.match(log, /File ".*python\.d\/t\/troubled\.py", line 13, in run\n/);
  });

  it('writes pretty lines with a timestamp when asked, JSON lines with a time by default when stderr is not a terminal', async () => {
    for (const [args, runnerKeys, format] of [
      [[], '', 'json'],
      [[], 'log_format = "pretty"', 'pretty'],
      [['--log-format', 'json'], 'log_format = "pretty"', 'json'],
    ] as const) {
      const runner = startRunner(['--config', troubledConfig(runnerKeys), ...args]);
      try {
        await waitFor(() => runner.log().includes('running 1 input(s)'), 'the runner to start');
      } finally {
        await runner.stop();
      }
      const first = runner.log().split('\n')[0]!;
      if (format === 'json') {
        const entry = JSON.parse(first) as { time: string; level: number; msg: string };
        assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        assert.equal(entry.level, 30);
        assert.match(entry.msg, /^pythond .* starting with .*pythond\.toml \(pid \d+\)$/);
      } else {
        assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}pythond .* starting with .*pythond\.toml \(pid \d+\)$/);
      }
    }
  });

  it('says at shutdown how many points came from each input and what each output did with them', async () => {
    const root = tempTree({
      'python.d/p/points.py': `
        from datakit_framework import DataKitFramework

        class Points(DataKitFramework):
            interval = 3600

            def run(self):
                self.feed_metric(measurement='m', fields={'v': 1})
      `,
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"
        log_format = "pretty"
        [[inputs.pythond]]
        name = "p"
        dirs = ["p"]
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    const runner = startRunner(['--config', path.join(root, 'pythond.toml')]);
    try {
      await waitFor(() => runner.log().includes('input p is delivering points'), 'the first points');
    } finally {
      await runner.stop();
    }
    assert.match(runner.log(), /info {2}points in the last \d+ s: 1 from p; file\[0\] sent 1\n/);
  });
});
