import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type ConfigError, loadConfig, parseConfig } from '../../src/config/load.js';
import { DEFAULT_CONFIG_TOML } from '../../src/config/default-config.js';
import { REPO_ROOT, dedent, tempTree } from '../helpers/fixtures.js';
import { PLUGINS } from '../../src/plugins.js';
import { configIssues } from '../helpers/config-issues.js';

const base = tempTree({
  'python.d/demo/a.py': 'x = 1\n',
  'python.d/other/b.py': 'x = 1\n',
  'python.d/empty/README': 'no scripts here\n',
  'python.d/dup/a.py': 'x = 1\n',
  'python.d/deps/d.py': 'x = 1\n',
  'python.d/deps/requirements.txt': 'pymysql==1.1.0\n',
  'wheels/PyMySQL-1.1.0-py3-none-any.whl': 'not really a wheel',
  'other-wheels/README': 'no wheel here\n',
});

function load(toml: string) {
  return parseConfig(dedent(toml), 'pythond.toml', base, PLUGINS);
}

const problems = (toml: string): string[] => configIssues(() => load(toml));

const MINIMAL = `
  [[inputs.pythond]]
  name = "demo"
  dirs = ["demo"]

  [[outputs.file]]
  path = "out.jsonl"
`;

describe('config', () => {
  it("accepts DataKit's [[inputs.pythond]] block unchanged", () => {
    const config = load(`
      [[inputs.pythond]]
        # Python collector name
        name = 'some-python-inputs'  # required
        #envs = ['LD_LIBRARY_PATH=/path/to/lib:$LD_LIBRARY_PATH',]
        cmd = "python3" # required. python3 is recommended.
        dirs = ["demo"]
        envs = ['LD_LIBRARY_PATH=/path/to/lib:$LD_LIBRARY_PATH',]

      [[outputs.stdout]]
    `);
    assert.equal(config.inputs[0]!.name, 'some-python-inputs');
    assert.deepEqual(config.inputs[0]!.envs, ['LD_LIBRARY_PATH=/path/to/lib:$LD_LIBRARY_PATH']);
  });

  it('fills every default in one place', () => {
    const config = load(MINIMAL);
    // Every key, so that a default changed or added without this test fails here.
    assert.deepEqual(config.runner, {
      concurrency: 8,
      workers: Math.min(2, os.availableParallelism()),
      executor: 'auto',
      image: 'pythond-python:3',
      pull: 'missing',
      registry_auth: undefined,
      listen: '127.0.0.1:9529',
      python_d: path.join(base, 'python.d'),
      data_dir: path.join(base, 'data'),
      log_level: 'info',
      log_format: undefined, // pretty on a terminal, else JSON
      api_token: undefined,
      shutdown_timeout: 30_000,
      max_body_size: 32 * 1024 ** 2,
      quarantine_after: 10,
      quarantine_interval: 5 * 60_000,
      host_starts: 4,
      conf_d: undefined, // conf.d beside the config file, and there is none
      hostname: undefined, // PYTHOND_HOSTNAME, else the OS's
      pip_index_url: undefined,
      pip_find_links: undefined,
    });
    assert.equal(config.host.name, process.env.PYTHOND_HOSTNAME ?? os.hostname());
    assert.deepEqual(config.globalTags, { host: { host: config.host.name }, election: {} });
    // Digests are checked where they are made; here only that nothing was asked of the build.
    const { discovered, codeDigest, dependencies, ...input } = config.inputs[0]!;
    assert.match(codeDigest, /^[0-9a-f]{64}$/);
    assert.deepEqual({ apt: dependencies.apt, requirements: dependencies.requirements }, { apt: [], requirements: [] });
    assert.deepEqual(input, {
      key: 'inputs.pythond[0]',
      source: 'pythond.toml',
      name: 'demo',
      cmd: 'python3',
      dirs: ['demo'],
      envs: [],
      tags: {},
      mode: 'warm',
      concurrency: 1,
      interval: undefined, // each collector's own
      timeout: undefined, // each collector's interval
      overlap: 'skip',
      image: 'pythond-python:3', // the runner's
      pull: 'missing', // the runner's
      memory: 128 * 1024 ** 2,
      cpus: 0.5,
      pids: 64,
      network: 'bridge',
      ports: [],
      mounts: [],
      apt: [],
      pip_index_url: undefined,
      pip_find_links: undefined,
      cluster: 'one',
      max_points: 1_000_000,
      max_report_size: 64 * 1024 ** 2,
      max_stderr: 1024 ** 2,
      globalTags: { host: config.host.name },
      hostname: config.host.name,
    });
    assert.deepEqual(
      discovered[0]!.modules.map((m) => m.module),
      ['a'],
    );
  });

  it('reads durations and sizes as operators write them', () => {
    const config = load(`
      [runner]
      shutdown_timeout = "1m30s"
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      timeout = "250ms"
      memory = "1g"
      max_report_size = "32MiB"
      [[outputs.stdout]]
    `);
    assert.equal(config.runner.shutdown_timeout, 90_000);
    assert.equal(config.inputs[0]!.timeout, 250);
    assert.equal(config.inputs[0]!.memory, 1024 ** 3);
    assert.equal(config.inputs[0]!.max_report_size, 32 * 1024 ** 2);
  });

  it('reads timeout = "0" as no timeout (a service) and ports as docker run -p writes them', () => {
    const config = load(`
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      timeout = "0"
      ports = ["127.0.0.1:9100:8000", "9200:9200/udp"]
      [[outputs.stdout]]
    `);
    const input = config.inputs[0]!;
    assert.equal(input.timeout, 0);
    assert.deepEqual(input.ports, [
      { hostIp: '127.0.0.1', hostPort: 9100, containerPort: 8000, protocol: 'tcp' },
      { hostIp: '', hostPort: 9200, containerPort: 9200, protocol: 'udp' },
    ]);
  });

  it('reads [cluster] with its defaults, and leaves it out when the table is absent', () => {
    assert.equal(load(MINIMAL).cluster, undefined);
    const config = load(`[cluster]\netcd = ["https://etcd-1:2379/", "https://etcd-2:2379"]\nprefix = "/pythond/prod/"\n${MINIMAL}`);
    const { etcd, prefix, lease_ttl, member } = config.cluster!;
    assert.deepEqual(
      { etcd, prefix, lease_ttl, member },
      { etcd: ['https://etcd-1:2379', 'https://etcd-2:2379'], prefix: '/pythond/prod', lease_ttl: 10_000, member: undefined },
    );
    assert.equal(config.inputs[0]!.cluster, 'one');
  });

  it('returns a frozen config', () => {
    const config = load(MINIMAL);
    assert.ok(Object.isFrozen(config.inputs[0]!));
    assert.throws(() => ((config.runner as { concurrency: number }).concurrency = 1));
  });

  it("resolves relative paths from the config file's folder", () => {
    const config = load(MINIMAL);
    const output = config.outputs[0]!;
    assert.equal(output.type, 'file');
    assert.equal((output.options as { path: string }).path, path.join(base, 'out.jsonl'));
  });

  it("reads an input's dependencies: apt, the requirements.txt of its folders, and where pip finds packages (the input's keys over the runner's)", () => {
    const config = load(`
      [runner]
      pip_find_links = "wheels"
      [[inputs.pythond]]
      name = "runner-level"
      dirs = ["deps", "demo"]
      apt = ["sysstat", "python3-pymysql=1.0.2-2+deb12u1"]
      [[inputs.pythond]]
      name = "input-level"
      dirs = ["deps"]
      pip_find_links = "other-wheels"
      pip_index_url = "https://mirror.example.com/simple/"
      [[inputs.pythond]]
      name = "none"
      dirs = ["demo"]
      [[outputs.stdout]]
    `);
    const [runnerLevel, inputLevel, none] = config.inputs.map((input) => input.dependencies);
    assert.deepEqual(runnerLevel!.apt, ['sysstat', 'python3-pymysql=1.0.2-2+deb12u1']);
    assert.deepEqual(runnerLevel!.requirements, [{ file: path.join(base, 'python.d/deps/requirements.txt'), text: 'pymysql==1.1.0\n' }]);
    assert.deepEqual(runnerLevel!.findLinks, { folder: path.join(base, 'wheels'), files: ['PyMySQL-1.1.0-py3-none-any.whl'] });
    assert.equal(runnerLevel!.indexUrl, undefined);
    assert.deepEqual(inputLevel!.findLinks, { folder: path.join(base, 'other-wheels'), files: ['README'] });
    assert.equal(inputLevel!.indexUrl, 'https://mirror.example.com/simple/');
    assert.deepEqual(none, { apt: [], requirements: [], digest: none!.digest }, 'without requirements, where pip looks does not matter');
    assert.notEqual(runnerLevel!.digest, inputLevel!.digest);
  });

  // Each bad config gets one line per problem, naming file, line and key.
  const cases: { name: string; toml: string; expect: RegExp[] }[] = [
    {
      name: 'broken TOML, in words, with the line and a caret',
      toml: 'a = = 1',
      expect: [/^config pythond\.toml:1:5: expected a value after =, found "=": such as "text", 10, true or \["a", "b"\]\n {2}1 \| a = = 1\n {4}\| {5}\^$/],
    },
    {
      name: 'a misspelt key, with a suggestion',
      toml: `[runner]\nconcurency = 4\n${MINIMAL}`,
      expect: [/^config pythond\.toml:2: runner\.concurency is not a known key \(did you mean "concurrency"\?\)/],
    },
    {
      name: 'an unknown top-level table',
      toml: `[agent]\ninterval = "10s"\n${MINIMAL}`,
      expect: [/^config pythond\.toml:1: agent is not a known table/],
    },
    {
      name: 'a wrong type',
      toml: `[runner]\nconcurrency = "eight"\n${MINIMAL}`,
      expect: [/^config pythond\.toml:2: runner\.concurrency must be an integer from 1 to 100000, got "eight"$/],
    },
    {
      name: 'a value out of range',
      toml: `[runner]\nworkers = 0\n${MINIMAL}`,
      expect: [/runner\.workers must be an integer from 1 to 64, got number 0/],
    },
    {
      name: 'an unknown executor',
      toml: `[runner]\nexecutor = "podman"\n${MINIMAL}`,
      expect: [/:2: runner\.executor must be one of "auto", "docker", "process", got "podman"/],
    },
    {
      name: 'a bad listen address',
      toml: `[runner]\nlisten = "9529"\n${MINIMAL}`,
      expect: [/:2: runner\.listen must be an address such as "127\.0\.0\.1:9529"/],
    },
    {
      name: 'empty dirs',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = []\n[[outputs.stdout]]\n',
      expect: [/^config pythond\.toml:3: inputs\.pythond\[0\]\.dirs must be a non-empty list of folders under python\.d, got an empty list$/],
    },
    {
      name: 'a missing dir, on the second input',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\n\n[[inputs.pythond]]\nname = "y"\ndirs = ["other", "nope"]\n[[outputs.stdout]]\n',
      expect: [/^config pythond\.toml:7: inputs\.pythond\[1\]\.dirs\[1\] names "nope", but folder .*python\.d\/nope does not exist/],
    },
    {
      name: 'a dir without scripts',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["empty"]\n[[outputs.stdout]]\n',
      expect: [/inputs\.pythond\[0\]\.dirs\[0\] names "empty", but folder .*empty has no collector scripts/],
    },
    {
      name: 'two scripts with the same import name',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo", "dup"]\n[[outputs.stdout]]\n',
      expect: [/inputs\.pythond\[0\]\.dirs\[1\] module "a" .* has the same import name as/],
    },
    {
      name: 'a missing required key',
      toml: '[[inputs.pythond]]\ndirs = ["demo"]\n[[outputs.stdout]]\n',
      expect: [/^config pythond\.toml:1: inputs\.pythond\[0\]\.name is required$/],
    },
    {
      name: 'duplicate input names',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\n[[inputs.pythond]]\nname = "x"\ndirs = ["other"]\n[[outputs.stdout]]\n',
      expect: [/:5: inputs\.pythond\[1\]\.name "x" is already the name of inputs\.pythond\[0\]/],
    },
    {
      name: 'an env entry without =',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\nenvs = ["FOO"]\n[[outputs.stdout]]\n',
      expect: [/:4: inputs\.pythond\[0\]\.envs\[0\] must look like "NAME=value", got "FOO"/],
    },
    {
      name: 'a bad duration and a bad size',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\ntimeout = "soon"\nmemory = "2m"\n[[outputs.stdout]]\n',
      expect: [
        /:4: inputs\.pythond\[0\]\.timeout must be a duration such as "10s"/,
        /:5: inputs\.pythond\[0\]\.memory must be a size .* of at least 6 MiB, got "2m"/,
      ],
    },
    {
      name: 'a port that is not [ip:]hostPort:containerPort',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\nports = ["9100:9100", "8080"]\n[[outputs.stdout]]\n',
      expect: [
        /:4: inputs\.pythond\[0\]\.ports\[1\] must look like "\[ip:\]hostPort:containerPort\[\/udp\]" such as "127\.0\.0\.1:9100:9100" \(ports 1 to 65535\), got "8080"/,
      ],
    },
    {
      name: 'ports with network = "host"',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\nnetwork = "host"\nports = ["9100:9100"]\n[[outputs.stdout]]\n',
      expect: [
        /:5: inputs\.pythond\[0\]\.ports publishes ports, but network = "host" shares the host's network, so the collector's ports are on the host already; leave ports out/,
      ],
    },
    {
      name: 'overlap = "kill" for services (timeout = "0"), and an overlap policy that does not exist',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\ntimeout = "0"\noverlap = "kill"\n[[inputs.pythond]]\nname = "y"\ndirs = ["demo"]\noverlap = "queue"\n[[outputs.stdout]]\n',
      expect: [
        /:5: inputs\.pythond\[0\]\.overlap is "kill", but timeout = "0" makes the collectors services, whose one run is meant to last and is never overlapped; leave overlap out/,
        /:9: inputs\.pythond\[1\]\.overlap must be one of "skip", "kill", got "queue"/,
      ],
    },
    {
      name: 'a quarantine that never comes, and one retried too often',
      toml: `[runner]\nquarantine_after = 0\nquarantine_interval = "100ms"\n${MINIMAL}`,
      expect: [/:2: runner\.quarantine_after must be an integer/, /:3: runner\.quarantine_interval must be a duration .* of at least 1000 ms, got "100ms"/],
    },
    {
      name: 'a writable mount',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\nmounts = ["proc:/host/proc"]\n[[outputs.stdout]]\n',
      expect: [/inputs\.pythond\[0\]\.mounts\[0\] must look like "\/host\/path:\/container\/path"/],
    },
    {
      name: 'Debian packages with the process executor',
      toml: '[runner]\nexecutor = "process"\n[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\napt = ["sysstat"]\n[[outputs.stdout]]\n',
      expect: [
        /^config pythond\.toml:6: inputs\.pythond\[0\]\.apt lists Debian packages, which pythond installs into the input's image: that needs the docker executor, not executor = "process"; install them on this machine with apt-get and leave apt out, or run with Docker$/,
      ],
    },
    {
      name: 'an apt entry that is not a Debian package name',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\napt = ["sysstat; rm -rf /"]\n[[outputs.stdout]]\n',
      expect: [/:4: inputs\.pythond\[0\]\.apt\[0\] must be a Debian package name such as "sysstat" or "sysstat=12\.6\.1-1", got "sysstat; rm -rf \/"$/],
    },
    {
      name: 'a wheels folder that is not there',
      toml: `[runner]\npip_find_links = "nowheels"\n${MINIMAL}`,
      expect: [/^config pythond\.toml:2: runner\.pip_find_links must be an existing folder, but .*nowheels is not there \(ENOENT\)$/],
    },
    {
      name: 'a package index URL with a password',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\npip_index_url = "https://me:secret@mirror.example.com/simple/"\n[[outputs.stdout]]\n',
      expect: [
        /:4: inputs\.pythond\[0\]\.pip_index_url must not carry a user name or password \(URLs show up in logs\); the URL is written into the input's image history; give the packages as wheels in pip_find_links instead$/,
      ],
    },
    {
      name: 'an input kind pythond does not run',
      toml: `[[inputs.cpu]]\npercpu = true\n${MINIMAL}`,
      expect: [/:1: inputs\.cpu is not an input pythond runs/],
    },
    {
      name: 'no input at all',
      toml: '[[outputs.stdout]]\n',
      expect: [/inputs has no \[\[inputs\.pythond\]\] block/],
    },
    {
      name: 'no output at all',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\n',
      expect: [/outputs has no output; add for example \[\[outputs\.file\]\]/],
    },
    {
      name: 'an unknown output',
      toml: `${MINIMAL}\n[[outputs.kafka]]\nbrokers = []\n`,
      expect: [/:8: outputs\.kafka is not a known output; known outputs: /],
    },
    {
      name: 'two identical outputs, which would write every point twice',
      toml: `${MINIMAL}\n[[outputs.stdout]]\n[[outputs.stdout]]\n`,
      expect: [/^config pythond\.toml:9: outputs\.stdout\[1\] is the same as outputs\.stdout\[0\]: every point would be written twice; remove one of them$/],
    },
    {
      name: 'an input interval that is not a duration',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\ninterval = -5\n[[outputs.stdout]]\n',
      expect: [/^config pythond\.toml:4: inputs\.pythond\[0\]\.interval must be a duration such as "10s", "500ms" or "1m30s" of at least 1 ms, got number -5$/],
    },
    {
      name: 'an unknown log format',
      toml: `[runner]\nlog_format = "logfmt"\n${MINIMAL}`,
      expect: [/^config pythond\.toml:2: runner\.log_format must be one of "pretty", "json", got "logfmt"$/],
    },
    {
      name: 'a bad key in a sub-table of the second input',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\n[[inputs.pythond]]\nname = "y"\ndirs = ["other"]\n[inputs.pythond.tags]\nhost = 3\n[[outputs.stdout]]\n',
      expect: [/:8: inputs\.pythond\[1\]\.tags\.host must be a string, got number 3/],
    },
    {
      name: 'an etcd endpoint that is not a URL, and a lease shorter than 2 s',
      toml: `[cluster]\netcd = ["127.0.0.1:2379"]\nlease_ttl = "1s"\n${MINIMAL}`,
      expect: [
        /:2: cluster\.etcd\[0\] must be an http:\/\/ or https:\/\/ URL such as "http:\/\/127\.0\.0\.1:2379", got "127\.0\.0\.1:2379"/,
        /:3: cluster\.lease_ttl must be a duration such as "10s", "500ms" or "1m30s" of at least 2000 ms, got "1s"/,
      ],
    },
    {
      name: 'a lease_ttl etcd cannot count, a member name with a slash, a prefix without one',
      toml: `[cluster]\nlease_ttl = "2500ms"\nmember = "a/b"\nprefix = "pythond"\n${MINIMAL}`,
      expect: [
        /:4: cluster\.prefix must be an etcd key prefix starting with "\/"/,
        /:3: cluster\.member must be a member name of letters, digits and \. _ : @ - \(no "\/"\)/,
        /:2: cluster\.lease_ttl must be whole seconds \(etcd leases count in seconds\)/,
      ],
    },
    {
      name: 'TLS keys with http:// endpoints, a certificate without its key, a user without a password',
      toml: `[cluster]\netcd = ["http://10.0.0.1:2379"]\ntls_cert = "python.d/demo/a.py"\nusername = "pythond"\n${MINIMAL}`,
      expect: [
        /:3: cluster\.tls_cert is set, but the etcd endpoints are http:\/\/; write them as https:\/\/ to use TLS/,
        /cluster\.tls_key is required with tls_cert and tls_key: a client certificate goes with its key/,
        /cluster\.password is required: etcd authentication needs both username and password/,
      ],
    },
    {
      name: 'an input cluster mode that is neither one nor each',
      toml: '[[inputs.pythond]]\nname = "x"\ndirs = ["demo"]\ncluster = "all"\n[[outputs.stdout]]\n',
      expect: [/:4: inputs\.pythond\[0\]\.cluster must be one of "one", "each", got "all"/],
    },
  ];
  for (const { name, toml, expect } of cases) {
    it(`rejects ${name} with the file, line and key`, () => {
      const issues = problems(toml);
      assert.equal(issues.length, expect.length, `issues: ${issues.join(' | ')}`);
      for (const [i, pattern] of expect.entries()) assert.match(issues[i]!, pattern);
    });
  }

  it('reports every problem at once', () => {
    const issues = problems('[runner]\nconcurrency = 0\nexecutor = "x"\n[[inputs.pythond]]\nname = ""\ndirs = "demo"\n');
    assert.equal(issues.length, 5, issues.join('\n'));
  });

  it('imports a script reached through two dirs entries once', () => {
    const config = load('[[inputs.pythond]]\nname = "x"\ndirs = ["demo", "demo/a.py"]\n[[outputs.stdout]]\n');
    assert.deepEqual(
      config.inputs[0]!.discovered.map((dir) => dir.modules.map((m) => m.module)),
      [['a'], []],
    );
  });

  it('reads an input interval and a log format', () => {
    const config = load(`[runner]\nlog_format = "json"\n${MINIMAL.replace('dirs = ["demo"]', 'dirs = ["demo"]\ninterval = "30s"')}`);
    assert.equal(config.runner.log_format, 'json');
    assert.equal(config.inputs[0]!.interval, 30_000);
    assert.equal(load(MINIMAL).inputs[0]!.interval, undefined, "without it, each collector's own");
  });

  it('parses the embedded default config, whose demo collectors are those shipped with pythond wherever it runs', () => {
    const config = parseConfig(DEFAULT_CONFIG_TOML, '<embedded default>', tempTree(), PLUGINS);
    assert.equal(config.inputs[0]!.name, 'demo');
    assert.equal(config.runner.python_d, path.join(REPO_ROOT, 'python.d'));
    assert.deepEqual(
      config.outputs.map((o) => o.type),
      ['file'],
    );
  });

  it('parses the sample pythond.toml shipped at the repository root', () => {
    const file = path.join(REPO_ROOT, 'pythond.toml');
    const config = parseConfig(readFileSync(file, 'utf8'), file, REPO_ROOT, PLUGINS);
    assert.ok(config.inputs.length >= 1);
  });

  const listens: [string, boolean][] = [
    ['127.0.0.1:9529', true],
    ['[::1]:9529', true],
    ['localhost:65535', true],
    ['0.0.0.0:0', true],
    ['127.0.0.1:65536', false],
    ['[::1]', false],
    ['a:b:9529', false],
    ['127.0.0.1:9529x', false],
    ['x 127.0.0.1:9529', false],
    ['[::1:9529', false],
  ];
  for (const [listen, ok] of listens) {
    it(`${ok ? 'accepts' : 'refuses'} listen = ${JSON.stringify(listen)}`, () => {
      const toml = `[runner]\nlisten = ${JSON.stringify(listen)}\n${MINIMAL}`;
      if (ok) assert.equal(load(toml).runner.listen, listen);
      else
        assert.deepEqual(problems(toml), [
          `config pythond.toml:2: runner.listen must be an address such as "127.0.0.1:9529" (host:port), got ${JSON.stringify(listen)}`,
        ]);
    });
  }

  it('accepts every log level and mode', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      assert.equal(load(`[runner]\nlog_level = "${level}"\n${MINIMAL}`).runner.log_level, level);
    for (const mode of ['warm', 'fresh']) assert.equal(load(MINIMAL.replace('dirs = ["demo"]', `dirs = ["demo"]\nmode = "${mode}"`)).inputs[0]!.mode, mode);
  });

  const mounts: [string, boolean][] = [
    ['/proc:/host/proc', true],
    ['/etc/ssl:/etc/ssl:ro', true],
    ['/:/rootfs', true],
    ['/a:/b:rw', false],
    ['/a:/b:ro:x', false],
    ['a/b:/b', false],
    ['/a:b', false],
  ];
  for (const [mount, ok] of mounts) {
    it(`${ok ? 'accepts' : 'refuses'} the mount ${JSON.stringify(mount)}`, () => {
      const toml = MINIMAL.replace('dirs = ["demo"]', `dirs = ["demo"]\nmounts = [${JSON.stringify(mount)}]`);
      if (ok) assert.deepEqual(load(toml).inputs[0]!.mounts, [mount]);
      else assert.match(problems(toml)[0]!, /inputs\.pythond\[0\]\.mounts\[0\] must look like "\/host\/path:\/container\/path"/);
    });
  }

  it('says what each key expects', () => {
    const input = (key: string) => problems(MINIMAL.replace('dirs = ["demo"]', `dirs = ["demo"]\n${key}`))[0]!.replace(/^config pythond\.toml:\d+: /, '');
    assert.equal(input('cmd = ""'), 'inputs.pythond[0].cmd must be a Python command such as "python3", got ""');
    assert.equal(input('image = " "'), 'inputs.pythond[0].image must be an image name, got " "');
    assert.equal(input('network = ""'), 'inputs.pythond[0].network must be "bridge", "none", "host" or a network name, got ""');
    assert.equal(input('envs = "A=1"'), 'inputs.pythond[0].envs must be a list of "NAME=value" strings, got "A=1"');
    assert.equal(input('envs = ["1A=1"]'), 'inputs.pythond[0].envs[0] must look like "NAME=value", got "1A=1"');
    assert.equal(input('mounts = "/a:/b"'), 'inputs.pythond[0].mounts must be a list of "/host/path:/container/path[:ro]" strings, got "/a:/b"');
    assert.equal(
      problems(MINIMAL.replace('name = "demo"', 'name = 3'))[0],
      'config pythond.toml:2: inputs.pythond[0].name must be a non-empty name, got number 3',
    );
    assert.equal(
      problems(`[runner]\nimage = ""\n${MINIMAL}`)[0],
      'config pythond.toml:2: runner.image must be an image name such as "pythond-python:3", got ""',
    );
  });

  it('reports inputs and outputs that are not written as tables', () => {
    assert.deepEqual(problems('inputs = 5\noutputs = 5\n'), [
      'config pythond.toml:1: inputs must hold [[inputs.pythond]] tables',
      'config pythond.toml:2: outputs must hold [[outputs.<name>]] tables',
    ]);
    assert.deepEqual(problems('[inputs]\npythond = 5\n[outputs]\nfile = 5\n'), [
      'config pythond.toml:2: inputs.pythond must be written as [[inputs.pythond]] tables',
      'config pythond.toml:4: outputs.file must be written as [[outputs.file]] tables',
    ]);
    assert.deepEqual(problems('[[runner]]\n[inputs]\n[[outputs.stdout]]\n'), [
      'config pythond.toml:1: runner must be a table, got a list',
      'config pythond.toml:2: inputs has no [[inputs.pythond]] block; add one with name and dirs',
    ]);
  });

  it('names every known output, and checks an output across its keys only once each key reads well', () => {
    assert.match(problems(`${MINIMAL}\n[[outputs.kafka]]\n`)[0]!, /outputs\.kafka is not a known output; known outputs: (\w+, )+\w+$/);
    assert.deepEqual(problems(`${MINIMAL}\n[[outputs.datakit]]\nurl = "http://127.0.0.1:9529"\nbatch_size = 0\n`), [
      'config pythond.toml:10: outputs.datakit[0].batch_size must be an integer from 1 to 1000000, got number 0',
    ]);
  });

  it('requires the name of each input once, without taking two nameless inputs for namesakes', () => {
    assert.deepEqual(problems('[[inputs.pythond]]\ndirs = ["demo"]\n[[inputs.pythond]]\ndirs = ["other"]\n[[outputs.stdout]]\n'), [
      'config pythond.toml:1: inputs.pythond[0].name is required',
      'config pythond.toml:3: inputs.pythond[1].name is required',
    ]);
  });

  it('names outputs <type>[<index>], counted per type', () => {
    const config = load(`${MINIMAL}\n[[outputs.stdout]]\n[[outputs.file]]\npath = "two.jsonl"\n`);
    assert.deepEqual(
      config.outputs.map((output) => output.id),
      ['file[0]', 'file[1]', 'stdout[0]'],
    );
  });

  it("gives each input its image and pull policy: its own, else the runner's", () => {
    const config = load(`
      [runner]
      image = "python:3-slim"
      pull = "always"
      [[inputs.pythond]]
      name = "own"
      dirs = ["demo"]
      image = "registry.example:5000/team/collectors:1"
      pull = "never"
      [[inputs.pythond]]
      name = "runner's"
      dirs = ["other"]
      [[outputs.stdout]]
    `);
    assert.deepEqual(
      config.inputs.map(({ name, image, pull }) => ({ name, image, pull })),
      [
        { name: 'own', image: 'registry.example:5000/team/collectors:1', pull: 'never' },
        { name: "runner's", image: 'python:3-slim', pull: 'always' },
      ],
    );
    assert.equal(
      problems(`[runner]\npull = "sometimes"\n${MINIMAL}`)[0],
      'config pythond.toml:2: runner.pull must be one of "missing", "always", "never", got "sometimes"',
    );
  });

  it('takes a Docker config file with credentials as registry_auth, and says what is wrong with one that has none', () => {
    const files = tempTree({
      'login.json': JSON.stringify({ auths: { '127.0.0.1:5000': { auth: Buffer.from('bot:s3cret').toString('base64') } } }),
      'helper.json': JSON.stringify({ auths: { 'registry.example': {} }, credsStore: 'desktop' }),
      'empty.json': JSON.stringify({ credHelpers: { 'registry.example': 'ecr-login' } }),
      'broken.json': '{"auths": ',
      'bad-auth.json': JSON.stringify({ auths: { 'registry.example': { auth: Buffer.from('no colon').toString('base64') } } }),
    });
    const auth = (file: string) => `[runner]\nregistry_auth = ${JSON.stringify(path.join(files, file))}\n${MINIMAL}`;
    assert.equal(load(auth('login.json')).runner.registry_auth, path.join(files, 'login.json'));
    const prefix = "config pythond.toml:2: runner.registry_auth must be a Docker config file with the registries' credentials: ";
    const login = '; `DOCKER_CONFIG=<folder> docker login <registry>` writes a file with them, <folder>/config.json';
    assert.equal(
      problems(auth('helper.json'))[0],
      `${prefix}auths."registry.example" of ${path.join(files, 'helper.json')} holds no credentials ("auth", "identitytoken", or "username" and "password"): its credentials are kept by a credential helper (credsStore "desktop"), which pythond does not run${login}`,
    );
    assert.equal(
      problems(auth('empty.json'))[0],
      `${prefix}${path.join(files, 'empty.json')} has no "auths": its credentials are kept by a credential helper (credHelpers), which pythond does not run${login}`,
    );
    assert.match(problems(auth('broken.json'))[0]!, /runner\.registry_auth must be a Docker config file .*: cannot read .*broken\.json as JSON: /);
    assert.equal(
      problems(auth('bad-auth.json'))[0],
      `${prefix}auths."registry.example" of ${path.join(files, 'bad-auth.json')}: "auth" is not the base64 of "user:password"`,
    );
    assert.match(problems(auth('missing.json'))[0]!, /runner\.registry_auth must be a readable file, but .*missing\.json is not \(ENOENT\)$/);
  });

  it('is a ConfigError with code CONFIG_INVALID and one line per problem', () => {
    assert.throws(
      () => load('[runner]\nconcurrency = 0\nworkers = 0\n'),
      (err: ConfigError) => err.code === 'CONFIG_INVALID' && err.message === err.issues.join('\n') && err.issues.length === 4,
    );
  });

  it('loads the file it is given, else ./pythond.toml, else the embedded default; an unreadable file is a ConfigError', () => {
    const file = path.join(base, 'given.toml');
    writeFileSync(file, MINIMAL);
    assert.equal(loadConfig({ file }, PLUGINS).source, file);
    const cwd = process.cwd();
    try {
      process.chdir(base);
      assert.equal(loadConfig({}, PLUGINS).source, '<embedded default>');
      writeFileSync(path.join(base, 'pythond.toml'), MINIMAL);
      assert.equal(loadConfig({}, PLUGINS).source, 'pythond.toml');
    } finally {
      process.chdir(cwd);
    }
    assert.throws(() => loadConfig({ file: path.join(base, 'missing.toml') }, PLUGINS), {
      code: 'CONFIG_INVALID',
      message: `config ${path.join(base, 'missing.toml')}: cannot read the file: ENOENT: no such file or directory, open '${path.join(base, 'missing.toml')}'`,
    });
  });
});
