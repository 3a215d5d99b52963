import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ReloadResult, RunnerReport } from '../../src/http/api-types.js';
import type { InputStatus } from '../../src/inputs/running-input.js';
import { startRunner } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';

/** A collector that says which version of its code it runs. */
const versioned = (version: number) => `
from datakit_framework import DataKitFramework

class Versioned(DataKitFramework):
    interval = 1

    def run(self):
        self.feed_metric(measurement='versioned', tags={'version': '${version}'}, fields={'v': 1})
`;

const CONFIG = (concurrency: number) => `
[runner]
executor = "docker"
listen = "127.0.0.1:0"
concurrency = ${concurrency}

[[inputs.pythond]]
name = "stay"
dirs = ["stay"]
network = "none"
tags = { input = "stay" }

[[inputs.pythond]]
name = "change"
dirs = ["change"]
network = "none"
tags = { input = "change" }

[[outputs.file]]
path = "data/points.jsonl"
`;

interface Collectors {
  runner: RunnerReport;
  inputs: InputStatus[];
}

interface Point {
  tags: Record<string, string>;
  time: bigint;
}

const points = (file: string): Point[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ ...(JSON.parse(line) as Point), time: BigInt(/"time":(\d+)\}$/.exec(line)![1]!) }))
    : [];

describe('reload', () => {
  it('applies a tuned concurrency on SIGHUP and POST /v1/reload, restarts only an input whose code changed, and keeps the old version when the new one does not load', async (t) => {
    if (!(await requireDocker(t))) return;
    const root = tempTree({ 'python.d/stay/stay.py': versioned(1), 'python.d/change/change.py': versioned(1), 'pythond.toml': CONFIG(4) });
    const configFile = path.join(root, 'pythond.toml');
    const pointsFile = path.join(root, 'data/points.jsonl');
    const runner = startRunner(['--config', 'pythond.toml'], { cwd: root });
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
      const collectors = async (): Promise<Collectors> => (await (await fetch(`${url}/v1/collectors`)).json()) as Collectors;
      const hostOf = (status: Collectors, input: string): string => status.inputs.find((i) => i.input === input)!.collectors[0]!.host!;
      const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
      // Triggers that come together (an edit seen by the watcher, a signal) may make one reload: wait for the one that did the thing.
      let seen = '';
      const reloaded = (what: string, did: (result: ReloadResult) => boolean) =>
        waitFor(async () => {
          const { lastReload } = (await collectors()).runner;
          if (!lastReload || lastReload.at === seen || !did(lastReload)) return undefined;
          seen = lastReload.at;
          return lastReload;
        }, what);

      await waitFor(() => ['stay', 'change'].every((input) => points(pointsFile).some((p) => p.tags.input === input)), 'both inputs ticking', 60_000);
      const before = await collectors();
      assert.equal(before.runner.concurrency, 4);
      const stayHost = hostOf(before, 'stay');
      const changeHost = hostOf(before, 'change');

      // A tuned concurrency takes effect on SIGHUP; no host is touched.
      writeFileSync(configFile, dedent(CONFIG(6)));
      runner.child.kill('SIGHUP');
      const hangUp = await reloaded('a reload applying concurrency 6', (result) => result.runner.includes('concurrency'));
      assert.equal(hangUp.result, 'ok');
      assert.equal((await collectors()).runner.concurrency, 6);

      // ... and on POST /v1/reload, which answers what it did.
      writeFileSync(configFile, dedent(CONFIG(7)));
      const answer = await fetch(`${url}/v1/reload`, { method: 'POST' });
      assert.equal(answer.status, 200);
      const posted = (await answer.json()) as ReloadResult;
      assert.equal(posted.result, 'ok');
      const afterTuning = await collectors();
      assert.equal(afterTuning.runner.concurrency, 7);
      assert.match(afterTuning.runner.config.digest, /^[0-9a-f]{12}$/);
      assert.notEqual(afterTuning.runner.config.digest, before.runner.config.digest);
      assert.equal(hostOf(afterTuning, 'stay'), stayHost, 'no container recreated');
      assert.equal(hostOf(afterTuning, 'change'), changeHost, 'no container recreated');

      // New code in one input: it alone gets a new container, from the watcher; the other keeps its container and its schedule.
      const skippedBefore = await metric(/^pythond_ticks_skipped_total\{input="stay"[^}]*\} (\d+)/m);
      const changedAt = BigInt(Date.now()) * 1_000_000n;
      writeFileSync(path.join(root, 'python.d/change/change.py'), dedent(versioned(2)));
      const restarted = await reloaded('a reload restarting "change"', (result) => result.restarted.includes('change'));
      assert.equal(restarted.result, 'ok', JSON.stringify(restarted));
      assert.deepEqual(restarted.restarted, ['change']);
      t.diagnostic(`reload of one input with new code: ${restarted.durationMs} ms`);
      await waitFor(() => points(pointsFile).some((p) => p.tags.input === 'change' && p.tags.version === '2'), 'the new version reporting');
      const afterCode = await collectors();
      assert.equal(hostOf(afterCode, 'stay'), stayHost, 'the unchanged input keeps its container');
      assert.notEqual(hostOf(afterCode, 'change'), changeHost, 'the changed input runs in a new container');
      assert.equal(await metric(/^pythond_ticks_skipped_total\{input="stay"[^}]*\} (\d+)/m), skippedBefore, 'no tick of the unchanged input skipped');
      const stayTimes = points(pointsFile)
        .filter((p) => p.tags.input === 'stay' && p.time > changedAt - 3_000_000_000n)
        .map((p) => Number(p.time / 1_000_000n));
      const gaps = stayTimes.slice(1).map((time, i) => time - stayTimes[i]!);
      t.diagnostic(`the unchanged input's tick gaps around the reload: ${gaps.join(', ')} ms`);
      for (const gap of gaps) assert.ok(Math.abs(gap - 1000) < 250, `stay ticked on schedule: gaps ${gaps.join(', ')} ms`);

      // A version that does not load: the old keeps running, and the error names the file and the line.
      const newHost = hostOf(afterCode, 'change');
      writeFileSync(
        path.join(root, 'python.d/change/change.py'),
        'from datakit_framework import DataKitFramework\n\nclass Broken(DataKitFramework:\n    pass\n',
      );
      const broken = await reloaded('a reload failing for "change"', (result) => result.failed.length > 0);
      assert.equal(broken.result, 'partial');
      assert.equal(broken.failed[0]!.input, 'change');
      assert.match(broken.failed[0]!.error, /change\.py.*SyntaxError.*line 3|change\.py:3/);
      assert.equal(hostOf(await collectors(), 'change'), newHost, 'the running version stays');
      const whenBroken = BigInt(Date.now()) * 1_000_000n;
      await waitFor(() => points(pointsFile).some((p) => p.tags.input === 'change' && p.time > whenBroken), 'the old version still reporting');
      assert.ok((await metric(/^pythond_reloads_total\{result="partial"\} (\d+)/m)) >= 1);

      // The fix loads.
      writeFileSync(path.join(root, 'python.d/change/change.py'), dedent(versioned(3)));
      const fixed = await reloaded('a reload restarting "change" again', (result) => result.restarted.includes('change'));
      assert.equal(fixed.result, 'ok');
      await waitFor(() => points(pointsFile).some((p) => p.tags.input === 'change' && p.tags.version === '3'), 'the fixed version reporting');
    } finally {
      const { code } = await runner.stop();
      assert.equal(code, 0, runner.log().slice(-3000));
    }
  });

  it('reloads a config that is a symbolic link when its target changes, and watches the folder of the input it brought in', async () => {
    // The config is a symlink to a file elsewhere, as Kubernetes mounts a ConfigMap: its folder does not see the target change, a watch on the file does.
    const root = tempTree({
      'python.d/stay/stay.py': versioned(1),
      'python.d/added/added.py': versioned(1),
      'conf/pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"
        [[inputs.pythond]]
        name = "stay"
        dirs = ["stay"]
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    symlinkSync(path.join(root, 'conf/pythond.toml'), path.join(root, 'pythond.toml'));
    const runner = startRunner(['--config', 'pythond.toml'], { cwd: root });
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
      const lastReload = async (): Promise<ReloadResult | undefined> => ((await (await fetch(`${url}/v1/collectors`)).json()) as Collectors).runner.lastReload;
      await waitFor(async () => ((await (await fetch(`${url}/healthz`)).json()) as { status: string }).status === 'ok', 'started', 60_000);

      const conf = readFileSync(path.join(root, 'conf/pythond.toml'), 'utf8');
      writeFileSync(path.join(root, 'conf/pythond.toml'), `${conf}\n[[inputs.pythond]]\nname = "added"\ndirs = ["added"]\n`);
      const answer = await waitFor(async () => (await lastReload())?.added.includes('added') && (await lastReload()), 'a reload adding "added"');
      assert.equal(answer.result, 'ok', JSON.stringify(answer));
      assert.equal(answer.trigger, 'pythond.toml changed');

      writeFileSync(path.join(root, 'python.d/added/added.py'), dedent(versioned(2)));
      const edited = await waitFor(async () => {
        const result = await lastReload();
        return result && result.at !== answer.at ? result : undefined;
      }, 'a reload after the edit of python.d/added/added.py');
      assert.match(edited.trigger, /added\.py changed/);
      assert.deepEqual(edited.restarted, ['added']);
      assert.equal(edited.result, 'ok', JSON.stringify(edited));
    } finally {
      const { code } = await runner.stop();
      assert.equal(code, 0, runner.log().slice(-3000));
    }
  });

  it('changes nothing when the edited config does not parse, and says why', async () => {
    const root = tempTree({
      'python.d/stay/stay.py': versioned(1),
      'pythond.toml': `
        [runner]
        executor = "process"
        listen = "127.0.0.1:0"
        concurrency = 4
        [[inputs.pythond]]
        name = "stay"
        dirs = ["stay"]
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    const runner = startRunner(['--config', 'pythond.toml'], { cwd: root });
    try {
      const url = await waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
      await waitFor(async () => ((await (await fetch(`${url}/healthz`)).json()) as { status: string }).status === 'ok', 'started');
      writeFileSync(path.join(root, 'pythond.toml'), '[runner]\nconcurrency = "many"\n');
      const answer = await fetch(`${url}/v1/reload`, { method: 'POST' });
      assert.equal(answer.status, 422);
      const result = (await answer.json()) as ReloadResult;
      assert.equal(result.result, 'error');
      assert.match(result.error!, /the config cannot be used, nothing changed: config pythond\.toml:2: runner\.concurrency must be an integer/);
      const status = (await (await fetch(`${url}/v1/collectors`)).json()) as Collectors;
      assert.equal(status.runner.concurrency, 4);
      assert.equal(status.inputs.length, 1);
    } finally {
      await runner.stop();
    }
  });
});
