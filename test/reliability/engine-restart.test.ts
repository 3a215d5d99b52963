import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LABEL_INSTANCE } from '../../src/runtimes/docker/labels.js';
import { startRunner } from '../helpers/cli.js';
import { TICK_COLLECTOR } from '../helpers/collectors.js';
import { requireDocker } from '../helpers/docker.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { PrivateDockerd } from '../helpers/private-dockerd.js';

const MODES = ['warm', 'fresh'] as const;

/** Points written so far by each mode's input, with the time each was written (ns since the epoch). */
function pointTimes(file: string): Record<(typeof MODES)[number], bigint[]> {
  const times = { warm: [] as bigint[], fresh: [] as bigint[] };
  if (!existsSync(file)) return times;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const mode = (JSON.parse(line) as { tags: { mode: 'warm' | 'fresh' } }).tags.mode;
    times[mode].push(BigInt(/"time":(\d+)\}$/.exec(line)![1]!));
  }
  return times;
}

describe('the Docker engine going away and coming back', () => {
  it('leaves the runner running, both modes tick again, and no container of the runner outlives it', async (t) => {
    if (!(await requireDocker(t))) return;
    const engine = await PrivateDockerd.start(t);
    if (!engine) return;
    await engine.loadImage('pythond-python:3');

    const root = tempTree({
      'python.d/tick/tick.py': TICK_COLLECTOR,
      'pythond.toml': `
        [runner]
        executor = "docker"
        listen = "127.0.0.1:0"
        ${MODES.map((mode) => `[[inputs.pythond]]\nname = "${mode}"\ndirs = ["tick"]\nmode = "${mode}"\nnetwork = "none"\ntimeout = "5s"\ntags = { mode = "${mode}" }`).join('\n')}
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    const points = path.join(root, 'data/points.jsonl');
    const runner = startRunner(['--config', 'pythond.toml'], { cwd: root, env: { DOCKER_HOST: engine.host } });
    let exitCode: number | null = null;
    try {
      await waitFor(() => MODES.every((mode) => pointTimes(points)[mode].length >= 2), 'both modes ticking', 60_000);

      const logBefore = runner.log().length;
      await engine.stop();
      // While the engine is away every tick fails, and is counted and logged; the runner stays up.
      await waitFor(
        () => MODES.every((mode) => new RegExp(`tick ${mode}/\\S+ failed`).test(runner.log().slice(logBefore))),
        'a failed tick of each mode while the engine is away',
        60_000,
      );
      assert.equal(runner.child.exitCode, null, `the runner survived the engine going away:\n${runner.log().slice(-3000)}`);

      await engine.resume();
      const upAt = Date.now();
      const upAtNs = BigInt(upAt) * 1_000_000n;
      const backAfterS: Record<string, number> = {};
      await waitFor(
        () => {
          const times = pointTimes(points);
          for (const mode of MODES) {
            if (backAfterS[mode] === undefined && times[mode].some((time) => time > upAtNs)) backAfterS[mode] = (Date.now() - upAt) / 1000;
          }
          return MODES.every((mode) => backAfterS[mode] !== undefined);
        },
        'both modes ticking again after the engine came back',
        120_000,
        100,
      );
      t.diagnostic(`ticking again after the engine came back: warm ${backAfterS.warm!.toFixed(1)} s, fresh ${backAfterS.fresh!.toFixed(1)} s`);
    } finally {
      ({ code: exitCode } = await runner.stop());
    }
    assert.equal(exitCode, 0, runner.log().slice(-3000));

    const instance = readFileSync(path.join(root, 'data/instance-id'), 'utf8').trim();
    const left = () => engine.docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
    // A removal the runner asked for may still be under way in a busy engine ("removing"): it has until a deadline to finish.
    await waitFor(async () => (await left()).every((c) => c.State !== 'removing'), 'the removals under way to finish', 30_000, 200).catch(() => {});
    assert.deepEqual(
      (await left()).map((c) => `${c.Names[0]} ${c.State}`),
      [],
      'every container of this runner is gone, whatever state the engine left it in',
    );
  });
});
