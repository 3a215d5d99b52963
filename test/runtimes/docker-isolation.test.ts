import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { instanceId } from '../../src/instance-id.js';
import { LABEL_INSTANCE, LABEL_MANAGED } from '../../src/runtimes/docker/labels.js';
import { selectRuntime } from '../../src/runtimes/select-runtime.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { startRunner } from '../helpers/cli.js';
import { tempTree, waitFor } from '../helpers/fixtures.js';
import { startInput } from '../helpers/input-harness.js';
import { readPoints } from '../helpers/api-app.js';
import { PLUGINS } from '../../src/plugins.js';

const INSIDE = {
  'inside.py': `
    import os, socket
    from datakit_framework import DataKitFramework

    def status(key):
        with open('/proc/self/status') as f:
            return [line.split()[1] for line in f if line.startswith(key + ':')][0]

    class Inside(DataKitFramework):
        interval = 60

        def run(self):
            try:
                open('/usr/pythond-was-here', 'w')
                rootfs = 'writable'
            except OSError:
                rootfs = 'read-only'
            self.feed_metric(measurement='inside', fields={
                'uid': os.getuid(),
                'rootfs': rootfs,
                'cap_eff': status('CapEff'),
                'no_new_privs': status('NoNewPrivs'),
                'interfaces': ','.join(sorted(os.listdir('/sys/class/net'))),
                'docker_socket': os.path.exists('/var/run/docker.sock'),
                'code_dir': ','.join(sorted(os.listdir('/tmp/pythond'))),
            })
  `,
  'hog.py': `
    from datakit_framework import DataKitFramework

    class Hog(DataKitFramework):
        interval = 60

        def run(self):
            chunks = []
            while True:
                chunks.append(bytearray(16 * 1024 * 1024))
  `,
};

describe('docker executor isolation', () => {
  it('runs each host in a hardened container, as the config asks', async (t) => {
    if (!(await requireDocker(t))) return;
    const h = await startInput({ executor: 'docker', files: INSIDE, inputToml: 'memory = "96m"\ncpus = 0.25\npids = 40\nnetwork = "none"' });
    assert.equal((await h.tick('inside.Inside')).status, 'ok');
    const inside = h.output.points[0]!.fields;
    assert.equal(inside.uid, 10001, 'not root');
    assert.equal(inside.rootfs, 'read-only');
    assert.equal(inside.cap_eff, '0000000000000000', 'no capabilities');
    assert.equal(inside.no_new_privs, '1');
    assert.equal(inside.interfaces, 'lo', 'network = "none" leaves only loopback');
    assert.equal(inside.docker_socket, false);
    assert.equal(inside.code_dir, 'core,d0', "only the SDK and this input's code were shipped in");

    const id = h.input.status().collectors[0]!.host!;
    const info = await docker.getContainer(id).inspect();
    const host = info.HostConfig;
    assert.equal(info.Config.User, '10001:10001');
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
    assert.equal(host.ReadonlyRootfs, true);
    assert.equal(host.Memory, 96 * 1024 ** 2);
    assert.equal(host.NanoCpus, 0.25e9);
    assert.equal(host.PidsLimit, 40);
    assert.equal(host.NetworkMode, 'none');
    assert.match(host.Tmpfs!['/tmp']!, /noexec/);
    assert.equal(info.Config.Labels[LABEL_MANAGED], 'true');
    assert.equal(info.Config.Labels['io.pythond.input'], 'test');
    assert.deepEqual(info.Mounts, [], 'no bind mount of runner paths');
  });

  it('has a network with the default "bridge"', async (t) => {
    if (!(await requireDocker(t))) return;
    const h = await startInput({ executor: 'docker', files: INSIDE });
    await h.tick('inside.Inside');
    assert.equal(h.output.points[0]!.fields.interfaces, 'eth0,lo');
  });

  it('reports a collector killed for memory as oom, and recovers', async (t) => {
    if (!(await requireDocker(t))) return;
    const h = await startInput({ executor: 'docker', files: INSIDE, inputToml: 'memory = "64m"\ntimeout = "20s"' });
    const outcome = await h.tick('hog.Hog');
    assert.equal(outcome.status, 'error');
    assert.equal(outcome.reason, 'oom');
    assert.equal((await h.tick('inside.Inside')).status, 'ok');
  });

  it('removes containers a crashed run of the same instance left behind, and no others', async (t) => {
    if (!(await requireDocker(t))) return;
    const root = tempTree({ 'python.d/c/a.py': 'x = 1\n' });
    const config = parseConfig('[runner]\nexecutor = "docker"\n[[inputs.pythond]]\nname = "a"\ndirs = ["c"]\n[[outputs.stdout]]\n', 't', root, PLUGINS);
    const mine = instanceId(config.runner.data_dir);
    const leftover = async (instance: string) => {
      const container = await docker.createContainer({
        Image: 'pythond-python:3',
        Cmd: ['sleep', '300'],
        Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: instance },
      });
      await container.start();
      return container.id;
    };
    const stale = await leftover(mine);
    const other = await leftover('someone-else');
    t.after(() => docker.getContainer(other).remove({ force: true }));

    await selectRuntime({ config, log: silentLogger, metrics: createMetrics('test') });
    const ids = (await docker.listContainers({ all: true })).map((c) => c.Id);
    assert.ok(!ids.includes(stale), 'the leftover is gone');
    assert.ok(ids.includes(other), "another instance's container is untouched");
  });

  it('keeps no idle container for an input none of whose scripts loads', async (t) => {
    if (!(await requireDocker(t))) return;
    const { app } = await startInput({ executor: 'docker', files: { 'broken.py': 'import no_such_module_anywhere\n' } });
    assert.equal(app.inputs[0]!.status().state, 'failed');
    const instance = instanceId(app.config.runner.data_dir);
    await waitFor(
      async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } })).length === 0,
      'its container to go',
      30_000,
      200,
    );
  });

  it('leaves no container behind after a SIGTERM that comes while ticks run in both modes, and exits 0', async (t) => {
    if (!(await requireDocker(t))) return;
    const root = tempTree({
      'python.d/c/busy.py': `
        import time
        from datakit_framework import DataKitFramework

        class Busy(DataKitFramework):
            interval = 1

            def run(self):
                self.feed_metric(measurement='started', fields={'v': 1})
                time.sleep(30)
      `,
      'pythond.toml': `
        [runner]
        executor = "docker"
        listen = "127.0.0.1:0"
        shutdown_timeout = "2s"
        [[inputs.pythond]]
        name = "a"
        dirs = ["c"]
        timeout = "1m"
        tags = { input = "a" }
        [[inputs.pythond]]
        name = "b"
        dirs = ["c"]
        mode = "fresh"
        timeout = "1m"
        tags = { input = "b" }
        [[outputs.file]]
        path = "points.jsonl"
      `,
    });
    const runner = startRunner(['--config', path.join(root, 'pythond.toml')]);
    const instance = instanceId(path.join(root, 'data'));
    const ours = async () => docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instance}`] } });
    /** The inputs whose ticks have reported so far. */
    const ticking = (): Set<string> => {
      const text = existsSync(path.join(root, 'points.jsonl')) ? readFileSync(path.join(root, 'points.jsonl'), 'utf8') : '';
      return new Set(readPoints(text).map((point) => point.tags.input!));
    };
    // A tick runs for 30 s once it reported: both inputs have one in flight (the fresh one in a container of its own).
    await waitFor(() => ticking().size === 2, 'a tick in flight in each input', 60_000);
    const { code } = await runner.stop();
    assert.equal(code, 0, runner.log());
    assert.deepEqual(await ours(), []);
  });
});
