import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { MODES } from '../../src/config/schema.js';
import { HostStarts } from '../../src/hosts/host-starts.js';
import { createHostMode } from '../../src/hosts/modes.js';
import { InputEvents } from '../../src/telemetry/events/input-events.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { PLUGINS } from '../../src/plugins.js';
import type { Runtime } from '../../src/runtimes/runtime.js';
import { tempTree } from '../helpers/fixtures.js';

/** A runtime that cannot start a host (an engine refusing, a missing cmd): the edge where the mode's pacing shows. */
const refusingRuntime: Runtime = {
  kind: 'refusing',
  prepare: async () => undefined,
  start: async () => {
    throw new Error('the engine refuses');
  },
  removeAll: async () => {},
};

/** The pause after each failed start in a row: the first is free, then 1 s doubling, capped at 5 minutes. */
const PAUSES_MS = [0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000];

describe('host modes', () => {
  for (const mode of MODES) {
    it(`${mode}: retries a host that cannot start at once, then after 1 s, doubling up to 5 minutes`, async () => {
      const root = tempTree({ 'python.d/c/a.py': 'x = 1\n' });
      const config = parseConfig(`[[inputs.pythond]]\nname = "a"\ndirs = ["c"]\nmode = "${mode}"\n[[outputs.stdout]]\n`, 'test.toml', root, PLUGINS);
      const events = new InputEvents(silentLogger, createMetrics('test'), 'a');
      const hosts = createHostMode(config.inputs[0]!, refusingRuntime, silentLogger, new HostStarts(1), events);
      for (const [failure, pauseMs] of PAUSES_MS.entries()) {
        const before = performance.now();
        await assert.rejects(hosts.start(), /the engine refuses/);
        const remaining = hosts.backoffRemaining();
        // The pause was set during start(): what remains of it is the pause less at most the time start() took.
        const elapsed = performance.now() - before;
        assert.ok(
          remaining <= pauseMs && remaining >= pauseMs - elapsed,
          `failure ${failure + 1}: ${remaining} ms left, expected ${pauseMs} ms less at most ${elapsed} ms`,
        );
      }
    });
  }
});
