import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { planReload } from '../../src/reload/plan.js';
import { IDLE_COLLECTOR } from '../helpers/api-app.js';
import { tempTree } from '../helpers/fixtures.js';

describe('reload plan', () => {
  const root = tempTree({ 'python.d/idle/idle.py': IDLE_COLLECTOR });
  const config = (runner: string, input: string, tables = '') =>
    parseConfig(`[runner]\n${runner}\n${tables}\n[[inputs.pythond]]\nname = "a"\ndirs = ["idle"]\n${input}\n[[outputs.stdout]]\n`, 'test.toml', root, PLUGINS);

  it('applies overlap, quarantine_after and quarantine_interval live: the input keeps its hosts, nothing waits for a restart', () => {
    const plan = planReload(config('', ''), config('quarantine_after = 3\nquarantine_interval = "1m"', 'overlap = "kill"'));
    assert.deepEqual(
      plan.keep.map(({ next, live }) => [next.name, live]),
      [['a', ['overlap']]],
    );
    assert.deepEqual(plan.restart, []);
    assert.deepEqual(plan.runner, { live: ['quarantine_after', 'quarantine_interval'], restart: [] });
  });

  it("restarts an input whose image changes with the runner's image, and one whose image a pull at the reload changed; a new pull policy is live", () => {
    const moved = planReload(config('', ''), config('image = "python:3-slim"', ''));
    assert.deepEqual(
      moved.restart.map(({ next, why }) => [next.name, why]),
      [['a', ['image']]],
    );
    assert.deepEqual(moved.runner.live, ['image']);
    const pulled = planReload(config('pull = "always"', ''), config('pull = "always"', ''), new Set(['a']));
    assert.deepEqual(
      pulled.restart.map(({ next, why }) => [next.name, why]),
      [['a', ['pulled image']]],
    );
    const policy = planReload(config('', ''), config('pull = "always"', 'pull = "never"'));
    assert.deepEqual(
      policy.keep.map(({ next, live }) => [next.name, live]),
      [['a', ['pull']]],
    );
    assert.deepEqual(policy.runner, { live: ['pull'], restart: [] });
  });

  it('applies changed global tags live: the inputs they reach keep their hosts', () => {
    const plan = planReload(config('', ''), config('', '', '[global_host_tags]\nhost = "__datakit_hostname"\nzone = "z2"'));
    assert.deepEqual(
      plan.keep.map(({ next, live }) => [next.name, live, next.globalTags.zone]),
      [['a', ['globalTags'], 'z2']],
    );
    assert.deepEqual(plan.restart, []);
  });

  it('gives every input new hosts when the host name changes: their containers carry it', () => {
    const plan = planReload(config('hostname = "web01"', ''), config('hostname = "web02"', ''));
    assert.deepEqual(
      plan.restart.map(({ next, why }) => [next.name, why, next.hostname]),
      [['a', ['hostname'], 'web02']],
    );
    assert.deepEqual(plan.runner, { live: ['hostname'], restart: [] });
  });
});
