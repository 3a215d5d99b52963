import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildRunnerImage, requireDocker } from '../helpers/docker.js';
import { exec } from '../helpers/exec.js';

const RUNNER_IMAGE = 'pythond-runner:latest';

describe('the runner image', () => {
  it("run as a user outside the Docker socket's group, says so and exits 1", { timeout: 10 * 60_000 }, async (t) => {
    if (!(await requireDocker(t))) return;
    await buildRunnerImage();
    const socket = statSync('/var/run/docker.sock');
    const { code, stderr } = await exec(
      'docker',
      ['run', '--rm', '--network', 'none', '--user', '10002:10002', '-v', '/var/run/docker.sock:/var/run/docker.sock', RUNNER_IMAGE, 'run'],
      { allowFailure: true },
    );
    assert.equal(code, 1, stderr);
    assert.match(
      stderr,
      new RegExp(
        `permission denied on the Docker socket /var/run/docker\\.sock \\(owner uid ${socket.uid}, group gid ${socket.gid}, mode ${(socket.mode & 0o777).toString(8)}\\): ` +
          "pythond runs as uid 10002 with groups 10002; run it as a member of the socket's group, or as root",
      ),
    );
  });
});
