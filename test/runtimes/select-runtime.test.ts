import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { selectRuntime } from '../../src/runtimes/select-runtime.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { pythond } from '../helpers/cli.js';
import { tempTree } from '../helpers/fixtures.js';
import { metricValue } from '../helpers/input-harness.js';
import { requireDocker } from '../helpers/docker.js';

/** A Docker endpoint where no engine answers. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe('executor selection', () => {
  it('falls back from auto to the process executor, loudly, when no engine answers', async () => {
    const { code, stdout, stderr } = await pythond(['check', 'python.d/demo', '--executor', 'auto', '--collector', 'general.Demo'], { env: NO_ENGINE });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /no Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock.*\. Falling back to the process executor: .*WITHOUT isolation/);
    assert.match(stderr, /collector\(s\) loaded in .* \(process executor, fresh mode\)/);
    assert.match(stderr, /general\.Demo: ok, 2 point\(s\)/);
    assert.equal(stdout.trim().split('\n').length, 2);
  });

  it('counts the fallback to an executor that does not isolate in pythond_runtime_errors_total', async (t) => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = NO_ENGINE.DOCKER_HOST;
    t.after(() => {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    });
    const root = tempTree({ 'python.d/c/idle.py': '' });
    const config = parseConfig('[runner]\nexecutor = "auto"\n[[inputs.pythond]]\nname = "a"\ndirs = ["c"]\n[[outputs.stdout]]\n', 't', root, PLUGINS);
    const metrics = createMetrics('test');
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line).msg) });
    const runtime = await selectRuntime({ config, log, metrics });
    assert.equal(runtime.kind, 'process');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^executor = "auto": no Docker engine answers .*\. Falling back to the process executor: .*WITHOUT isolation/);
    assert.equal(await metricValue(metrics, 'pythond_runtime_errors_total', { reason: 'unisolated_fallback' }), 1);
  });

  it('refuses to run with executor docker when no engine answers', async () => {
    const { code, stderr } = await pythond(['check', 'python.d/demo', '--executor', 'docker'], { env: NO_ENGINE });
    assert.equal(code, 1);
    assert.match(stderr, /no Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock/);
  });

  it('says how to get a missing image, and suggests `npm run images` only for the image it builds', async (t) => {
    if (!(await requireDocker(t))) return;
    const { code, stderr } = await pythond(['check', 'python.d/demo', '--executor', 'docker', '--image', 'pythond-missing:0']);
    assert.equal(code, 1);
    assert.equal(
      stderr.trim().split('\n').at(-1),
      'cannot start the collectors of python.d/demo: image pythond-missing:0 is not on the Docker engine; pythond does not pull images: build it (for example FROM pythond-python:3, which `npm run images` builds) or `docker pull pythond-missing:0`, or correct the image name',
    );
  });
});
