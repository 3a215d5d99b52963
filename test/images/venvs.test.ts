import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { InputReport } from '../../src/http/api-types.js';
import { inputReports } from '../../src/http/views.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { tempTree } from '../helpers/fixtures.js';
import { MemoryOutput, metricValue } from '../helpers/input-harness.js';
import { writeWheel } from '../helpers/wheels.js';

const reporter = `
from datakit_framework import DataKitFramework
import pythondprobe

class Reporter(DataKitFramework):
    name = 'reporter'
    interval = 1

    def run(self):
        self.feed_metric(measurement='imported', tags={'version': pythondprobe.VERSION}, fields={'v': 1})
`;

const input = (name: string) => `
[[inputs.pythond]]
name = "${name}"
dirs = ["${name}"]
tags = { input = "${name}" }
`;

describe('requirements with the process executor, in virtual environments', () => {
  const root = tempTree({
    'pythond.toml': `[runner]\nexecutor = "process"\nworkers = 1\npip_find_links = "wheels"\n${input('one')}${input('two')}${input('missing')}[[outputs.stdout]]\n`,
    'python.d/one/reporter.py': reporter,
    'python.d/one/requirements.txt': 'pythondprobe==1.0\n',
    'python.d/two/reporter.py': reporter,
    'python.d/two/requirements.txt': 'pythondprobe==2.0\n',
    'python.d/missing/reporter.py': reporter,
    'python.d/missing/requirements.txt': 'pythondabsent==1.0\n',
  });
  mkdirSync(path.join(root, 'wheels'));
  writeWheel(path.join(root, 'wheels'), 'pythondprobe', '1.0');
  writeWheel(path.join(root, 'wheels'), 'pythondprobe', '2.0');
  const configFile = path.join(root, 'pythond.toml');
  let output = new MemoryOutput();
  let app: App | undefined;
  after(() => app?.stop());

  /** An app that ticks by hand, as `pythond check` does: its start resolves once every environment is ready (or failed). */
  const startApp = async (): Promise<App> => {
    await app?.stop();
    output = new MemoryOutput();
    app = new App(parseConfig(readFileSync(configFile, 'utf8'), configFile, root, PLUGINS), { log: silentLogger, outputs: { memory: output } });
    await app.start({ schedule: false });
    return app;
  };
  const status = (name: string): InputReport => inputReports(app!).find((s) => s.input === name)!;
  const tickAll = async (): Promise<Record<string, string>> => {
    for (const running of app!.inputs) for (const collector of running.collectors) await running.tick(collector);
    return Object.fromEntries(output.points.map((point) => [point.tags.input, point.tags.version]));
  };

  it('runs two inputs pinning two versions of one package side by side, each in its own virtual environment under data_dir', async () => {
    await startApp();
    assert.deepEqual(await tickAll(), { one: '1.0', two: '2.0' });
    for (const name of ['one', 'two']) {
      const { image } = status(name);
      assert.equal(image?.state, 'ready');
      assert.ok(image!.tag!.startsWith(path.join(root, 'data/venvs', `${name}-`)), image!.tag);
      assert.ok(existsSync(path.join(image!.tag!, 'bin/python')));
    }
  });

  it('fails an input whose requirement is found nowhere, naming it, while the others run', () => {
    const missing = status('missing');
    assert.equal(missing.state, 'failed');
    assert.equal(missing.image?.state, 'failed');
    assert.match(
      missing.image!.error!,
      /^inputs\.pythond\[2\]: cannot make the virtual environment of input missing: requirement pythondabsent==1\.0 \(from .*missing\/requirements\.txt\) is not among the wheels of pip_find_links \(.*wheels\); add its wheel there/,
    );
    assert.ok(
      missing.image!.output!.some((line) => line.includes('No matching distribution found for pythondabsent==1.0')),
      missing.image!.output!.join('\n'),
    );
    assert.ok(!existsSync(missing.image!.tag!), 'the failed environment is removed');
  });

  it('builds nothing at a second start: every environment is found by its key', async () => {
    const before = ['one', 'two'].map((name) => status(name).image!.tag);
    await startApp();
    assert.deepEqual(
      ['one', 'two'].map((name) => status(name).image!.tag),
      before,
    );
    for (const name of ['one', 'two']) {
      assert.equal(await metricValue(app!.metrics, 'pythond_image_builds_total', { input: name, result: 'reused' }), 1);
      assert.equal(await metricValue(app!.metrics, 'pythond_image_builds_total', { input: name, result: 'built' }), 0);
    }
    assert.deepEqual(await tickAll(), { one: '1.0', two: '2.0' });
  });
});
