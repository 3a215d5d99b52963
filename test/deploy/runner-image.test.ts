import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { buildRunnerImage, docker, requireDocker } from '../helpers/docker.js';
import { exec } from '../helpers/exec.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { ImageRegistry } from '../helpers/image-registry.js';

const RUNNER_IMAGE = 'pythond-runner:latest';
const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

/** The OCI labels of an image (org.opencontainers.image.*), by their short name. */
async function ociLabels(image: string): Promise<Record<string, string>> {
  const labels = (await docker.getImage(image).inspect()).Config.Labels ?? {};
  const prefix = 'org.opencontainers.image.';
  return Object.fromEntries(Object.entries(labels).flatMap(([key, value]) => (key.startsWith(prefix) ? [[key.slice(prefix.length), value]] : [])));
}

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

  it("says what it is in the OCI labels (package.json's version, the commit, the license) and carries the license", { timeout: 10 * 60_000 }, async (t) => {
    if (!(await requireDocker(t))) return;
    await buildRunnerImage();
    const commit = (await exec('git', ['rev-parse', 'HEAD'])).stdout.trim();
    const labels = await ociLabels(RUNNER_IMAGE);
    assert.equal(labels.version, version);
    assert.match(labels.revision!, new RegExp(`^${commit}(-dirty)?$`));
    assert.equal(labels.licenses, 'MIT');
    assert.equal(labels.title, 'pythond');
    const license = await exec('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'head', RUNNER_IMAGE, '-n', '1', '/app/LICENSE']);
    assert.equal(license.stdout, 'MIT License\n');
  });

  it('builds with plain `docker build` on bases pulled from a registry, as on a machine that reaches one', { timeout: 10 * 60_000 }, async (t) => {
    if (!(await requireDocker(t))) return;
    // The local bases `npm run images` makes, pushed to a registry of the test's own, stand in for the official node image.
    await buildRunnerImage();
    const registry = await ImageRegistry.start({ auth: false });
    const tag = `pythond-runner:registry-${registry.host.replace(/\D/g, '')}`;
    const bases = { BASE: `${registry.host}/pythond/node:20`, BUILD_BASE: `${registry.host}/pythond/node:20-build` };
    try {
      await registry.pushImage('pythond-node:20', bases.BASE);
      await registry.pushImage('pythond-node:20-build', bases.BUILD_BASE);
      const build = await exec('docker', ['build', '-t', tag, '--build-arg', `BASE=${bases.BASE}`, '--build-arg', `BUILD_BASE=${bases.BUILD_BASE}`, '.'], {
        timeoutMs: 8 * 60_000,
      });
      assert.match(build.stdout, /Pulling from pythond\/node/, 'the bases came from the registry');
      const labels = await ociLabels(tag);
      assert.deepEqual([labels.version, labels.revision, labels.licenses], [version, 'unknown', 'MIT']);
      const { stdout } = await exec('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'node', tag, '/app/dist/src/main.js', '--version']);
      assert.equal(stdout, `pythond ${version} (collector host protocol ${PROTOCOL_VERSION})\n`);
    } finally {
      // Tags only: the images are the shared bases and runner, under other names too.
      for (const name of [tag, bases.BASE, bases.BUILD_BASE]) {
        await docker
          .getImage(name)
          .remove()
          .catch(() => {});
      }
      await registry.close();
    }
  });
});
