import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pythond } from '../helpers/cli.js';
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
