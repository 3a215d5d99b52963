import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { InputReport } from '../../src/http/api-types.js';
import { inputReports, runnerReport } from '../../src/http/views.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { PLUGINS } from '../../src/plugins.js';
import { pythond } from '../helpers/cli.js';
import { docker, requireDocker } from '../helpers/docker.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';
import { MemoryOutput, metricValue } from '../helpers/input-harness.js';
import { writeWheel } from '../helpers/wheels.js';

/** A build may take minutes on a busy machine (apt reads Debian's whole package index). */
const BUILD_MS = 10 * 60_000;

/** A collector that reports which version of a module it imported, tagged with its input (the input's `tags`). */
const reporter = (module: string, version: string) => `
from datakit_framework import DataKitFramework
import ${module}

class Reporter(DataKitFramework):
    name = 'reporter'
    interval = 1

    def run(self):
        self.feed_metric(measurement='imported', tags={'version': ${version}}, fields={'v': 1})
`;

const input = (name: string, keys = '') => `
[[inputs.pythond]]
name = "${name}"
dirs = ["${name}"]
network = "none"
tags = { input = "${name}" }
${keys}`;

const CONFIG = `
[runner]
executor = "docker"
workers = 1
pip_find_links = "wheels"
${input('plain')}
${input('one')}
${input('two')}
${input('debian', 'apt = ["python3-pymysql"]')}
${input('missing')}
${input('offline', 'pip_index_url = "http://127.0.0.1:9/simple/"')}
[[outputs.stdout]]
`;

describe('dependencies per input, built into images', () => {
  const root = tempTree({
    'pythond.toml': CONFIG,
    'python.d/plain/reporter.py': reporter('json', "'none'"),
    'python.d/one/reporter.py': reporter('pythondprobe', 'pythondprobe.VERSION'),
    'python.d/one/requirements.txt': 'pythondprobe==1.0\n',
    'python.d/two/reporter.py': reporter('pythondprobe', 'pythondprobe.VERSION'),
    'python.d/two/requirements.txt': 'pythondprobe==2.0\n',
    'python.d/debian/reporter.py': reporter('pymysql', 'pymysql.__version__'),
    'python.d/missing/reporter.py': reporter('pythondabsent', "'never'"),
    'python.d/missing/requirements.txt': 'pythondabsent==1.0\n',
    'python.d/offline/reporter.py': reporter('pythondabsent', "'never'"),
    'python.d/offline/requirements.txt': 'pythondabsent==1.0\n',
  });
  const configFile = path.join(root, 'pythond.toml');
  const load = () => parseConfig(readFileSync(configFile, 'utf8'), configFile, root, PLUGINS);
  const setRequirements = (input: string, text: string) => writeFileSync(path.join(root, 'python.d', input, 'requirements.txt'), dedent(text));
  let output = new MemoryOutput();
  let app: App;
  let dockerUp = false;
  /** This test's runner instance: its images carry it. */
  let instance: string | undefined;

  const startApp = async (): Promise<App> => {
    output = new MemoryOutput();
    const started = new App(load(), { log: silentLogger, outputs: { memory: output }, source: { load } });
    await started.start();
    return started;
  };
  const status = (name: string): InputReport => inputReports(app).find((s) => s.input === name)!;
  /** The versions an input reported, in order. */
  const versions = (name: string): string[] => output.points.filter((p) => p.tags.input === name).map((p) => p.tags.version!);
  /** The images this test's runner built, by tag. */
  const images = async (): Promise<string[]> => {
    instance ??= readFileSync(path.join(root, 'data/instance-id'), 'utf8').trim();
    const found = await docker.listImages({ filters: { label: [`io.pythond.instance=${instance}`] } });
    return found.flatMap((image) => image.RepoTags ?? []).sort();
  };

  before(() => {
    // The two versions of the package the inputs pin, in the runner's pip_find_links.
    const wheels = path.join(root, 'wheels');
    mkdirSync(wheels);
    writeWheel(wheels, 'pythondprobe', '1.0');
    writeWheel(wheels, 'pythondprobe', '2.0');
  });
  after(async () => {
    await app?.stop();
    if (dockerUp) {
      // Untagged ones too (the image removed under a running input, above).
      const built = await docker.listImages({ filters: { label: [`io.pythond.instance=${instance}`] } });
      for (const image of built) await docker.getImage(image.Id).remove({ force: true });
    }
  });

  it('ticks an input without dependencies while the others build their images', async (t) => {
    if (!(await requireDocker(t))) return;
    dockerUp = true;
    app = await startApp();
    await images();
    await waitFor(() => versions('plain').length > 0, 'a point of the input without dependencies');
    assert.equal(status('one').image?.state, 'building', JSON.stringify(status('one')));
    assert.equal(status('plain').image, undefined, 'an input without dependencies has no image of its own');
  });

  it('runs two inputs pinning two versions of one package side by side, each importing its own', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    await waitFor(() => versions('one').length > 0 && versions('two').length > 0, 'points of one and two', BUILD_MS);
    assert.equal(versions('one')[0], '1.0');
    assert.equal(versions('two')[0], '2.0');
    assert.equal(status('one').state, 'running');
    assert.match(status('one').image!.tag!, /^pythond-input\/one:[0-9a-f]{16}$/);
    assert.equal(status('one').image!.state, 'ready');
  });

  it("installs an input's apt packages into its image", async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    await waitFor(() => versions('debian').length > 0, 'a point of the input with apt packages', BUILD_MS);
    assert.match(versions('debian')[0]!, /^\d+\.\d+/, 'pymysql, from Debian, imported');
  });

  it('fails the build of a requirement found nowhere, naming it and its file, while the others tick', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const missing = await waitFor(() => status('missing').image?.state === 'failed' && status('missing'), 'the failed build', BUILD_MS);
    assert.equal(missing.state, 'failed');
    assert.match(missing.image!.error!, /requirement pythondabsent==1\.0 \(from .*missing\/requirements\.txt\) is not among the wheels of pip_find_links/);
    assert.ok(
      missing.image!.output!.some((line) => line.includes('No matching distribution found for pythondabsent==1.0')),
      missing.image!.output!.join('\n'),
    );
    assert.equal(missing.error, missing.image!.error);
    const before = versions('plain').length;
    await waitFor(() => versions('plain').length > before, 'another point of the input without dependencies');
  });

  it('says when no package index answers, pointing to pip_find_links and pip_index_url, instead of waiting', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const offline = await waitFor(() => status('offline').image?.state === 'failed' && status('offline'), 'the failed build', BUILD_MS);
    assert.match(
      offline.image!.error!,
      /the index at pip_index_url \(http:\/\/127\.0\.0\.1:9\/simple\/\) cannot be reached \(http:\/\/127\.0\.0\.1:9\/simple\/pythondabsent\/: [^)]*refused\), so pythondabsent==1\.0 cannot be installed; set pip_find_links to a folder of wheels to install offline, or pip_index_url to an index this machine reaches/,
    );
  });

  it('builds nothing at a second start: every image is found by its key', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const built = await images();
    assert.deepEqual(
      built.map((tag) => tag.replace(/:.*/, '')),
      ['pythond-input/debian', 'pythond-input/one', 'pythond-input/two'],
    );
    await app.stop();
    app = await startApp();
    await waitFor(() => versions('one').length > 0 && versions('two').length > 0 && versions('debian').length > 0, 'points of every built input');
    for (const name of ['one', 'two', 'debian']) {
      assert.equal(await metricValue(app.metrics, 'pythond_image_builds_total', { input: name, result: 'reused' }), 1, name);
      assert.equal(await metricValue(app.metrics, 'pythond_image_builds_total', { input: name, result: 'built' }), 0, name);
    }
    assert.deepEqual(await images(), built);
  });

  it('runs `pythond check --input` in the image the runner built, building nothing', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const tag = status('one').image!.tag!;
    const { code, stdout, stderr } = await pythond(['check', '--input', 'one', '--config', 'pythond.toml'], { cwd: root, timeoutMs: BUILD_MS });
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`\\(docker executor, warm mode, image ${tag}\\)`));
    assert.doesNotMatch(stderr, /building/);
    assert.equal(JSON.parse(stdout.trim()).tags.version, '1.0');
  });

  it('rebuilds only the input whose requirements.txt changed, on reload, and swaps it in', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const oneHost = status('one').collectors[0]!.host;
    setRequirements('two', 'pythondprobe==1.0\n');
    const result = await app.reload('test');
    assert.equal(result.result, 'ok', JSON.stringify(result));
    assert.deepEqual(result.restarted, ['two']);
    assert.deepEqual(result.updated, []);
    const seen = versions('two').length;
    await waitFor(() => versions('two').slice(seen).includes('1.0'), 'two reporting 1.0');
    assert.equal(status('one').collectors[0]!.host, oneHost, 'one kept its container');
    assert.equal(await metricValue(app.metrics, 'pythond_image_builds_total', { input: 'two', result: 'built' }), 1);
    assert.equal(await metricValue(app.metrics, 'pythond_image_builds_total', { input: 'one', result: 'built' }), 0);
  });

  it('keeps the running image when a rebuild fails, and says why', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const tag = status('one').image!.tag;
    setRequirements('one', 'pythondprobe==3.0\n');
    const result = await app.reload('test');
    assert.equal(result.result, 'partial');
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]!.input, 'one');
    assert.match(
      result.failed[0]!.error,
      /cannot build image pythond-input\/one:[0-9a-f]+ for input one: requirement pythondprobe==3\.0 \(from .*one\/requirements\.txt\)/,
    );
    const seen = versions('one').length;
    await waitFor(() => versions('one').length > seen, 'one ticking on');
    assert.deepEqual([...new Set(versions('one').slice(seen))], ['1.0']);
    assert.deepEqual(status('one').image, { state: 'ready', tag });
    assert.equal(runnerReport(app).lastReload?.failed[0]?.input, 'one');
  });

  it('builds an image removed under a running input again at its next start', async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const tag = status('one').image!.tag!;
    const seen = versions('one').length;
    // Untagged while its container still runs; gone for good once the container is.
    await docker.getImage(tag).remove({ force: true });
    const [container] = await docker.listContainers({ filters: { label: ['io.pythond.input=one', `io.pythond.instance=${instance}`] } });
    await docker.getContainer(container!.Id).kill();
    await waitFor(() => versions('one').length > seen + 1, 'one ticking again', BUILD_MS);
    assert.ok((await images()).includes(tag), `${tag} is there again`);
    assert.ok((await metricValue(app.metrics, 'pythond_container_restarts_total', { input: 'one' })) > 0);
  });

  it("keeps an input's last two images: the one it runs and the one before", async (t) => {
    if (!dockerUp) return t.skip('needs Docker');
    const before = (await images()).filter((tag) => tag.startsWith('pythond-input/two:'));
    assert.equal(before.length, 2, 'the first image and the one built at the reload');
    const running = status('two').image!.tag!;
    setRequirements('two', 'pythondprobe>=2.0\n');
    assert.deepEqual((await app.reload('test')).restarted, ['two']);
    const after = (await images()).filter((tag) => tag.startsWith('pythond-input/two:'));
    assert.equal(after.length, 2, after.join(', '));
    assert.ok(after.includes(running), 'the image two ran until now is kept');
    assert.ok(after.includes(status('two').image!.tag!), 'the new one');
  });
});
