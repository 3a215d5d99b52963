import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { InputReport } from '../../src/http/api-types.js';
import { startHttpApi, type HttpApi } from '../../src/http/server.js';
import { inputReports } from '../../src/http/views.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { pythond } from '../helpers/cli.js';
import { docker, dockerReady, requireDocker } from '../helpers/docker.js';
import { tempTree, waitFor, within } from '../helpers/fixtures.js';
import { ImageRegistry, REGISTRY_USER } from '../helpers/image-registry.js';
import { MemoryOutput, metricValue } from '../helpers/input-harness.js';
import { writeWheel } from '../helpers/wheels.js';

/** Reports the marker of the image it runs in (its ENV PYTHOND_MARKER), and the version of pythondprobe when it can import it. */
const MARKER_COLLECTOR = `
import os
from datakit_framework import DataKitFramework

try:
    import pythondprobe
    probe = pythondprobe.VERSION
except ImportError:
    probe = 'none'

class Marker(DataKitFramework):
    name = 'marker'
    interval = 1

    def run(self):
        self.feed_metric(measurement='marker', tags={'marker': os.environ.get('PYTHOND_MARKER', 'none'), 'probe': probe}, fields={'v': 1})
`;

/** A retry of a failed pull comes after 5 s; a pull on loopback takes well under a second more. */
const RETRY_MS = 30_000;

describe('images from a registry', () => {
  const root = tempTree({
    'python.d/marker/marker.py': MARKER_COLLECTOR,
    'python.d/probe/marker.py': MARKER_COLLECTOR,
    'python.d/probe/requirements.txt': 'pythondprobe==1.0\n',
  });
  const configFile = path.join(root, 'pythond.toml');
  const load = () => parseConfig(readFileSync(configFile, 'utf8'), configFile, root, PLUGINS);
  const output = new MemoryOutput();
  const logged: { msg: string; level: number }[] = [];
  let registry: ImageRegistry | undefined;
  /** A registry that takes connections and never answers (the engine gives up after about 25 s). */
  const silent = net.createServer((socket) => silentSockets.add(socket));
  const silentSockets = new Set<net.Socket>();
  let silentImage = '';
  let app: App | undefined;
  let api: HttpApi | undefined;
  /** This test's runner instance: the images it builds carry it. */
  let instance: string | undefined;
  const image = (tag: string): string => `${registry!.host}/pythond-test/marker:${tag}`;
  const status = (name: string): InputReport => inputReports(app!).find((s) => s.input === name)!;
  /** The markers an input's points carried, in order. */
  const markers = (name: string): string[] => output.points.filter((p) => p.tags.input === name).map((p) => p.tags.marker!);
  const pulls = (result: string): Promise<number> => metricValue(app!.metrics, 'pythond_image_pulls_total', { result });

  before(async () => {
    // Without Docker the tests below skip (or fail in CI) saying so.
    if (!(await dockerReady())) return;
    registry = await ImageRegistry.start({ auth: true });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentImage = `127.0.0.1:${(silent.address() as AddressInfo).port}/pythond-test/silent:1`;
    registry.writeDockerConfig(path.join(root, 'docker-config.json'));
    for (const tag of ['one', 'always', 'registry-only', 'base']) await registry.push(`pythond-test/marker:${tag}`, tag);
    mkdirSync(path.join(root, 'wheels'));
    writeWheel(path.join(root, 'wheels'), 'pythondprobe', '1.0');
    const input = (name: string, dir: string, keys: string) =>
      `[[inputs.pythond]]\nname = "${name}"\ndirs = ["${dir}"]\nnetwork = "none"\ntags = { input = "${name}" }\n${keys}\n`;
    writeFileSync(
      configFile,
      [
        '[runner]\nexecutor = "docker"\nworkers = 1\nlisten = "127.0.0.1:0"\nregistry_auth = "docker-config.json"\npip_find_links = "wheels"\n',
        input('local', 'marker', ''),
        input('pulled', 'marker', `image = "${image('one')}"`),
        input('never', 'marker', `image = "${image('registry-only')}"\npull = "never"`),
        input('always', 'marker', `image = "${image('always')}"\npull = "always"`),
        input('built', 'probe', `image = "${image('base')}"`),
        input('silent', 'marker', `image = "${silentImage}"`),
        '[[outputs.stdout]]\n',
      ].join('\n'),
    );
  });
  after(async () => {
    await api?.close();
    await app?.stop();
    await registry?.close();
    for (const socket of silentSockets) socket.destroy();
    silent.close();
    if (!registry) return;
    // What this runner built, then what it pulled from this registry (its port is this run's alone), tagged or not any more.
    const fromRegistry = (refs: string[] | undefined) => refs?.some((ref) => ref.startsWith(`${registry!.host}/`));
    const images = await docker.listImages();
    const built = images.filter((found) => instance !== undefined && found.Labels?.['io.pythond.instance'] === instance);
    const pulled = images.filter((found) => fromRegistry(found.RepoTags) || fromRegistry(found.RepoDigests));
    for (const found of [...built, ...pulled]) {
      await docker
        .getImage(found.Id)
        .remove({ force: true })
        .catch(() => {});
    }
  });

  it('fails only the inputs whose registry is down, retries them with backoff, and pulls their images once it is up', async (t) => {
    if (!(await requireDocker(t))) return;
    await registry!.stop();
    const log = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const config = load();
    app = new App(config, { log, outputs: { memory: output }, source: { load } });
    api = await startHttpApi(app, { listen: config.runner.listen, maxBodySize: config.runner.max_body_size, log: silentLogger });
    await app.start();
    instance = readFileSync(path.join(root, 'data/instance-id'), 'utf8').trim();
    await waitFor(() => markers('local').length > 0, 'a point of the input in the local image');
    const down = await waitFor(() => status('pulled').state === 'failed' && status('pulled'), 'the pull to fail');
    assert.match(down.error!, new RegExp(`^cannot pull image ${escaped(image('one'))} from ${escaped(registry!.host)}: .*connection refused`));
    assert.ok(
      logged.some((line) => line.msg.startsWith(`input pulled cannot start: cannot pull image ${image('one')}`) && line.msg.endsWith('; retrying in 5.0 s')),
      'the failure is logged with when it is tried again',
    );
    await waitFor(async () => (await pulls('failed')) >= 3, 'the pulls of pulled, always and built to fail');

    await registry!.start();
    await waitFor(() => markers('pulled').length > 0 && markers('always').length > 0, 'points from the pulled images', RETRY_MS);
    assert.equal(markers('pulled')[0], 'one');
    assert.equal(status('pulled').state, 'running');
    const pulling = logged.find((line) => line.msg.startsWith(`pulling image ${image('one')}`));
    assert.equal(pulling?.msg, `pulling image ${image('one')} from ${registry!.host} as ${REGISTRY_USER}`);
    assert.ok(
      logged.some((line) =>
        new RegExp(`^pulled image ${escaped(image('one'))} in \\d+\\.\\d s \\(1 of 1 layers done, 1 on the engine already\\): [0-9a-f]{12}$`).test(line.msg),
      ),
      logged.map((line) => line.msg).join('\n'),
    );
  });

  it('shows an input whose registry does not answer as pulling its image, in /v1/collectors and pythond status', async (t) => {
    if (!app) return t.skip('needs Docker');
    const pulling = await waitFor(() => status('silent').image?.state === 'pulling' && status('silent'), "the silent registry's input to be pulling", RETRY_MS);
    assert.deepEqual([pulling.state, pulling.image], ['starting', { state: 'pulling', tag: silentImage }]);
    const { stdout } = await pythond(['status', '--url', api!.url]);
    assert.match(stdout, new RegExp(`^silent +- +starting( +-){4} +pulling ${escaped(silentImage)}$`, 'm'));
  });

  it('builds the image of an input with dependencies on a base pulled from the registry', async (t) => {
    if (!app) return t.skip('needs Docker');
    await waitFor(() => output.points.some((p) => p.tags.input === 'built'), 'a point of the input built on the pulled base', 5 * 60_000);
    const point = output.points.find((p) => p.tags.input === 'built')!;
    assert.deepEqual([point.tags.marker, point.tags.probe], ['base', '1.0']);
    assert.match(status('built').image!.tag!, /^pythond-input\/built:[0-9a-f]{16}$/);
  });

  it('fails an input whose image is not on the engine with pull = "never", saying how to get it, while the others tick', async (t) => {
    if (!app) return t.skip('needs Docker');
    assert.equal(status('never').state, 'failed');
    assert.equal(
      status('never').error,
      `image ${image('registry-only')} is not on the Docker engine; pull = "never": \`docker pull ${image('registry-only')}\` or build it, correct the image name, or set pull = "missing" to have it pulled`,
    );
    assert.equal(markers('never').length, 0);
    const ticked = markers('local').length;
    await waitFor(() => markers('local').length > ticked, 'another tick of the local input');
  });

  it('pulls an image with pull = "always" again at each reload: the same image leaves the input alone, a new push restarts it', async (t) => {
    if (!app) return t.skip('needs Docker');
    const current = await pulls('current');
    const same = await app.reload('test: nothing pushed');
    assert.deepEqual([same.result, same.restarted], ['ok', []]);
    assert.equal(await pulls('current'), current + 1, 'asked its registry, which had nothing new');

    await registry!.push('pythond-test/marker:always', 'two');
    const pulled = await pulls('pulled');
    const pushed = await app.reload('test: a new push');
    assert.deepEqual([pushed.result, pushed.restarted], ['ok', ['always']]);
    assert.equal(await pulls('pulled'), pulled + 1, 'pulled once: the new version runs in the image the reload pulled');
    await waitFor(() => markers('always').at(-1) === 'two', 'a point from the image pushed since', RETRY_MS);
    assert.ok(
      logged.some((line) => line.msg === 'reload: input always changed (pulled image): trying the new version in new hosts'),
      'the log says why it restarted',
    );
    assert.equal(markers('pulled').at(-1), 'one', 'pull = "missing" leaves an image on the engine alone');
  });

  it("restarts the inputs of the runner's image in the new one when a reload changes [runner] image", async (t) => {
    if (!app) return t.skip('needs Docker');
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('[runner]\n', `[runner]\nimage = "${image('one')}"\n`));
    const reload = await app.reload('test: [runner] image');
    assert.deepEqual([reload.result, reload.restarted, reload.runner], ['ok', ['local'], ['image']]);
    await waitFor(() => markers('local').at(-1) === 'one', "a point of the input in the runner's new image", RETRY_MS);
  });

  it('says what the registry answered when it refuses a pull, and what credentials were sent', async (t) => {
    if (!app) return t.skip('needs Docker');
    const anonymous = await pythond(['check', path.join(root, 'python.d/marker'), '--executor', 'docker', '--image', image('registry-only')]);
    assert.equal(anonymous.code, 1);
    assert.match(
      anonymous.stderr.trim().split('\n').at(-1)!,
      new RegExp(
        `: cannot pull image ${escaped(image('registry-only'))} from ${escaped(registry!.host)}: .*no basic auth credentials \\(no registry_auth is set\\)$`,
      ),
    );

    registry!.writeDockerConfig(path.join(root, 'wrong.json'), 'not-the-password');
    const wrong = path.join(root, 'wrong.toml');
    writeFileSync(
      wrong,
      `[runner]\nexecutor = "docker"\nregistry_auth = "wrong.json"\n[[inputs.pythond]]\nname = "wrong"\ndirs = ["marker"]\nimage = "${image('registry-only')}"\n[[outputs.stdout]]\n`,
    );
    const refused = await pythond(['check', '--input', 'wrong', '--config', wrong]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `cannot pull image ${escaped(image('registry-only'))} from ${escaped(registry!.host)}: .*unauthorized.* \\(registry_auth ${escaped(path.join(root, 'wrong.json'))} has credentials for ${escaped(registry!.host)}, sent with the pull\\)`,
      ),
    );
  });

  it('stops at once while a pull waits on a registry that does not answer', async (t) => {
    if (!app) return t.skip('needs Docker');
    await waitFor(() => status('silent').image?.state === 'pulling', 'a pull waiting on the silent registry', RETRY_MS);
    // Its input abandons the pull; the engine would wait about 25 s for an answer.
    await within(app.stop(), 15_000, 'the runner to stop');
  });
});

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
