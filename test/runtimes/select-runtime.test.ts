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
import { PrivateDockerd } from '../helpers/private-dockerd.js';

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

  it('pulls a missing image, and fails the input with the image, its registry and the answer when the pull fails', async (t) => {
    if (!(await requireDocker(t))) return;
    const { code, stderr } = await pythond(['check', 'python.d/demo', '--executor', 'docker', '--image', 'pythond-missing:0']);
    assert.equal(code, 1);
    // No registry is reachable here: the engine's default one does not resolve, or does not have it.
    assert.match(stderr.trim().split('\n').at(-1)!, /^cannot start the collectors of python\.d\/demo: cannot pull image pythond-missing:0 from \S+: .+/);
  });

  it('says both ways to get the image `npm run images` builds on an engine without it, and `auto` falls back', async (t) => {
    if (!(await requireDocker(t))) return;
    const engine = await PrivateDockerd.start(t);
    if (!engine) return;
    const both =
      'image pythond-python:3 is not on the Docker engine; no registry has it: build it with `npm run images` (no registry needed), or where a registry is reachable set image = "python:3-slim" (pulled at start) or build it with `docker build -t pythond-python:3 docker/python`';
    const docker = await pythond(['check', 'python.d/demo', '--executor', 'docker'], { env: { DOCKER_HOST: engine.host } });
    assert.equal(docker.code, 1);
    assert.equal(docker.stderr.trim().split('\n').at(-1), `cannot start the collectors of python.d/demo: ${both}`);
    const auto = await pythond(['check', 'python.d/demo', '--executor', 'auto', '--collector', 'general.Demo'], { env: { DOCKER_HOST: engine.host } });
    assert.equal(auto.code, 0, auto.stderr);
    assert.ok(auto.stderr.includes(`executor = "auto": ${both}. Falling back to the process executor`), auto.stderr);
  });
});
