import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { inputReports } from '../../src/http/views.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { tempTree } from '../helpers/fixtures.js';

const INPUTS = 6;

/**
 * A collector script that, while its host imports it (before the host's
 * hello), marks the host as starting for a while and writes down how many
 * hosts were starting at once meanwhile.
 */
const slowImport = `
import os, time
from datakit_framework import DataKitFramework

_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
_mark = os.path.join(_root, 'starting', str(os.getpid()))
open(_mark, 'w').close()
_seen = 0
for _ in range(30):
    _seen = max(_seen, len(os.listdir(os.path.join(_root, 'starting'))))
    time.sleep(0.01)
with open(os.path.join(_root, 'seen', str(os.getpid())), 'w') as f:
    f.write(str(_seen))
os.remove(_mark)

class Slow(DataKitFramework):
    interval = 60

    def run(self):
        pass
`;

describe('hosts starting together', () => {
  it('start at most [runner] host_starts at once, all inputs together, and every input starts', async () => {
    const files = Object.fromEntries(Array.from({ length: INPUTS }, (_, i) => [`python.d/in${i}/slow.py`, slowImport]));
    const root = tempTree(files);
    mkdirSync(path.join(root, 'starting'));
    mkdirSync(path.join(root, 'seen'));
    const blocks = Array.from({ length: INPUTS }, (_, i) => `[[inputs.pythond]]\nname = "in${i}"\ndirs = ["in${i}"]`);
    const config = parseConfig(`[runner]\nexecutor = "process"\nhost_starts = 2\n${blocks.join('\n')}\n[[outputs.stdout]]\n`, 'test.toml', root, PLUGINS);
    const app = new App(config, { log: silentLogger, outputs: {} });
    after(() => app.stop());

    await app.start({ schedule: false });

    assert.deepEqual(
      inputReports(app).map((input) => input.state),
      Array.from({ length: INPUTS }, () => 'running'),
    );
    const seen = readdirSync(path.join(root, 'seen')).map((file) => Number(readFileSync(path.join(root, 'seen', file), 'utf8')));
    assert.equal(seen.length, INPUTS);
    assert.ok(Math.max(...seen) <= 2, `hosts starting at once: ${seen.join(', ')}`);
  });
});
