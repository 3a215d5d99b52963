import assert from 'node:assert/strict';
import os from 'node:os';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { configIssues } from '../helpers/config-issues.js';
import { dedent, tempTree } from '../helpers/fixtures.js';

const root = tempTree({ 'python.d/a/a.py': 'x = 1\n' });
const INPUTS = `
  [[inputs.pythond]]
  name = "one"
  dirs = ["a"]
  [[inputs.pythond]]
  name = "each"
  dirs = ["a"]
  cluster = "each"
  [[outputs.stdout]]
`;
const CLUSTER = '[cluster]\netcd = ["http://127.0.0.1:2379"]\nmember = "m1"\n';

const load = (toml: string) => parseConfig(dedent(toml), 'pythond.toml', root, PLUGINS);

const problems = (toml: string): string[] => configIssues(() => load(toml));

describe('global tags and the host name', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.PYTHOND_HOSTNAME;
    delete process.env.PYTHOND_HOSTNAME;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.PYTHOND_HOSTNAME;
    else process.env.PYTHOND_HOSTNAME = saved;
  });

  it("tags every input's points with host = the OS's host name by default, as DataKit does", () => {
    const config = load(INPUTS);
    assert.deepEqual(config.host, { name: os.hostname(), from: 'os', ip: config.host.ip });
    assert.deepEqual(
      config.inputs.map((input) => input.globalTags),
      [{ host: os.hostname() }, { host: os.hostname() }],
    );
  });

  it('takes [runner] hostname, else PYTHOND_HOSTNAME, else the OS', () => {
    process.env.PYTHOND_HOSTNAME = 'from-env';
    assert.deepEqual([load(INPUTS).host.name, load(INPUTS).host.from], ['from-env', 'PYTHOND_HOSTNAME']);
    const configured = load(`[runner]\nhostname = "web01"\n${INPUTS}`);
    assert.deepEqual([configured.host.name, configured.host.from, configured.inputs[0]!.hostname], ['web01', 'runner.hostname', 'web01']);
    assert.deepEqual(configured.inputs[0]!.globalTags, { host: 'web01' });
  });

  it('refuses a host name a container cannot have, naming the key or the variable', () => {
    assert.match(problems(`[runner]\nhostname = "web 01"\n${INPUTS}`)[0]!, /pythond\.toml:2: runner\.hostname must be a host name of 1 to 64 letters, digits/);
    assert.match(problems(`[runner]\nhostname = "${'a'.repeat(65)}"\n${INPUTS}`)[0]!, /runner\.hostname must be a host name of 1 to 64/);
    process.env.PYTHOND_HOSTNAME = 'bad/name';
    assert.match(problems(INPUTS)[0]!, /runner\.hostname is not set, and the environment variable PYTHOND_HOSTNAME must be a host name .* got "bad\/name"/);
  });

  it('replaces the default with the [global_host_tags] written, resolving __datakit_hostname, __datakit_ip and their $ spellings', () => {
    const config = load(`
      [runner]
      hostname = "web01"
      [global_host_tags]
      name = "__datakit_hostname"
      also = "$datakit_hostname"
      ip = "__datakit_ip"
      ip2 = "$datakit_ip"
      zone = "eu-1"
      ${INPUTS}
    `);
    assert.match(config.host.ip, /^[\d.]+$|:/);
    assert.deepEqual(config.globalTags.host, { name: 'web01', also: 'web01', ip: config.host.ip, ip2: config.host.ip, zone: 'eu-1' });
    assert.deepEqual(load(`[global_host_tags]\n${INPUTS}`).inputs[0]!.globalTags, {}, 'an empty table adds nothing');
  });

  it('gives the election tags to cluster = "one" inputs under [cluster], the host tags to the others', () => {
    const tables = `[runner]\nhostname = "web01"\n[global_election_tags]\nproject = "p1"\n`;
    const clustered = load(`${tables}${CLUSTER}${INPUTS}`);
    assert.deepEqual(
      clustered.inputs.map((input) => [input.name, input.globalTags]),
      [
        ['one', { project: 'p1' }],
        ['each', { host: 'web01' }],
      ],
    );
    // Without [cluster] every input runs here, as DataKit's without election: host tags for all.
    assert.deepEqual(
      load(`${tables}${INPUTS}`).inputs.map((input) => input.globalTags),
      [{ host: 'web01' }, { host: 'web01' }],
    );
  });

  it('refuses tags a point cannot carry, naming the key', () => {
    assert.match(problems(`[global_host_tags]\nhost = 1\n${INPUTS}`)[0]!, /pythond\.toml:2: global_host_tags\.host must be a string, got number 1/);
    assert.match(problems(`[global_election_tags]\nzone = "a\\nb"\n${INPUTS}`)[0]!, /global_election_tags\.zone must not hold a line break/);
    assert.match(problems(`global_host_tags = "host"\n${INPUTS}`)[0]!, /global_host_tags must be a table of strings/);
    assert.match(
      problems('[[inputs.pythond]]\nname = "x"\ndirs = ["a"]\ntags = { env = "a\\rb" }\n[[outputs.stdout]]\n')[0]!,
      /inputs\.pythond\[0\]\.tags\.env must not hold a line break/,
    );
  });
});
