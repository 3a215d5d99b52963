import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { startRunner } from '../helpers/cli.js';
import { freePort, REPO_ROOT, tempTree, waitFor, within } from '../helpers/fixtures.js';
import { VictoriaMetrics } from '../helpers/metric-servers.js';

/** The README's "A first collector" section, up to the next section. */
const section = /^## A first collector\n([\s\S]*?)^## /m.exec(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'))?.[1] ?? '';
const block = (language: string): string => new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\``, 'm').exec(section)?.[1] ?? '';

/** Where the README's output sends points: VictoriaMetrics on its default port, here replaced by a test's own. */
const README_URL = 'http://127.0.0.1:8428';

const vm = await VictoriaMetrics.start();
after(() => vm.close());

test("the README's first collector, its input and its output deliver its points to VictoriaMetrics", async (t) => {
  const [script, toml] = [block('python'), block('toml')];
  assert.match(script, /class LoadAvg\(DataKitFramework\)/);
  assert.ok(toml.includes(`url = "${README_URL}"`), `the README's output goes to ${README_URL}`);
  // As written, but on free ports, with the process executor: this test needs no Docker.
  const tree = tempTree({
    'python.d/mine/loadavg.py': script,
    'mine.toml': `[runner]\nlisten = "127.0.0.1:${await freePort()}"\nexecutor = "process"\n\n${toml.replace(README_URL, vm.url)}`,
  });
  // The README's machine is web01: its name becomes every point's host tag.
  const runner = startRunner(['--config', 'mine.toml'], { cwd: tree, env: { PYTHOND_HOSTNAME: 'web01' } });
  t.after(() => runner.child.kill('SIGKILL'));

  // Its first tick comes within one interval (10 s); the output sends within a second of it.
  const series = (await waitFor(
    async () => {
      if (runner.child.exitCode !== null) throw new Error(`the runner exited with code ${runner.child.exitCode}:\n${runner.log()}`);
      const exported = await vm.export('{__name__=~"loadavg_load(1|5|15)"}');
      return exported.length === 3 ? exported : undefined;
    },
    'the three series in VictoriaMetrics',
    60_000,
    250,
  ))!;
  assert.deepEqual(
    series.map(({ metric }) => metric).sort((a, b) => a.__name__!.localeCompare(b.__name__!)),
    [
      { __name__: 'loadavg_load1', db: 'pythond', host: 'web01', source: 'mine' },
      { __name__: 'loadavg_load15', db: 'pythond', host: 'web01', source: 'mine' },
      { __name__: 'loadavg_load5', db: 'pythond', host: 'web01', source: 'mine' },
    ],
  );
  for (const { values } of series) assert.ok(values.every((value) => typeof value === 'number' && value >= 0));

  runner.child.kill('SIGTERM');
  const [code] = await within(once(runner.child, 'exit'), 30_000, 'the runner stopping on SIGTERM');
  assert.equal(code, 0, runner.log());
});
