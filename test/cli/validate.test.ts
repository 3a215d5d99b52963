import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pythond } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { REPO_ROOT, tempTree } from '../helpers/fixtures.js';
import { TestRepo } from '../helpers/git-server.js';

/** A Docker endpoint where no engine answers: `executor = "auto"` falls back to the process executor. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

/** A python.d with scripts that cannot load beside one that can, and its config with `executor`. */
function brokenTree(executor: string): string {
  return tempTree({
    'python.d/x/good.py': `
      from datakit_framework import DataKitFramework

      class Good(DataKitFramework):
          interval = 30

          def run(self):
              pass
    `,
    'python.d/x/broken.py': 'x = 1\ndef oops(:\n',
    'python.d/x/missing.py': 'from datakit_framework import DataKitFramework\nimport nope_module\n',
    'python.d/x/intervals.py': `
      from datakit_framework import DataKitFramework

      class Zero(DataKitFramework):
          interval = 0

          def run(self):
              pass
    `,
    'pythond.toml': `
      [runner]
      executor = "${executor}"
      [[inputs.pythond]]
      name = "x"
      dirs = ["x"]
      network = "none"
      [[outputs.file]]
      path = "data/points.jsonl"
    `,
  });
}

describe('pythond validate', () => {
  it('loads every script of a valid config and lists the collectors with their intervals', async () => {
    const { code, stdout, stderr } = await pythond(['validate', '--config', 'pythond.toml'], { env: NO_ENGINE });
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'config pythond.toml is valid and its collectors load');
    assert.match(lines[1]!, /^ {2}executor auto \(process here\), concurrency 8, listen 127\.0\.0\.1:9529, python_d python\.d$/);
    assert.match(stdout, /^ {2}input demo \(warm\): 4 script\(s\), 4 collector\(s\): counter_rate\.CounterRate every 10 s, .*general\.Demo every 10 s$/m);
    assert.match(stdout, /^ {2}output file\[0\] data\/points\.jsonl$/m);
  });

  it('reports each script that cannot load as FILE:LINE: error, warns about bad intervals, and exits 1', async () => {
    const root = brokenTree('process');
    const { code, stdout, stderr } = await pythond(['validate', '--config', 'pythond.toml'], { cwd: root });
    assert.equal(code, 1);
    assert.equal(stdout.split('\n')[0], 'config pythond.toml is valid, but 2 problem(s) keep its collectors from loading');
    assert.match(stdout, /^ {2}input x \(warm\): 4 script\(s\), 2 collector\(s\): good\.Good every 30 s, intervals\.Zero every 10 s$/m);
    assert.deepEqual(stderr.trimEnd().split('\n'), [
      "python.d/x/intervals.py: warning: input x: collector intervals.Zero has interval = 0, which is not a number of seconds > 0; it runs every 10 s instead (DataKit's default)",
      'python.d/x/broken.py:2: input x cannot load broken: SyntaxError: invalid syntax (broken.py, line 2)',
      "python.d/x/missing.py:2: input x cannot load missing: ModuleNotFoundError: No module named 'nope_module'",
    ]);
  });

  it('checks the config alone with --no-load', async () => {
    const root = brokenTree('process');
    const { code, stdout, stderr } = await pythond(['validate', '--config', 'pythond.toml', '--no-load'], { cwd: root });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.split('\n')[0], 'config pythond.toml is valid (scripts found, not loaded: --no-load)');
    assert.match(stdout, /input x \(warm\): 4 script\(s\): broken \(python\.d\/x\/broken\.py\), good .*missing/);
  });

  it('reads the *.conf files of --conf-d DIR, and names the conf.d file of a problem', async () => {
    const root = tempTree({
      'python.d/x/good.py': 'x = 1\n',
      'pythond.toml': '[[outputs.stdout]]\n',
      'datakit/conf.d/host/cpu.conf': '[[inputs.cpu]]\n',
      'datakit/conf.d/py/x.conf': '[[inputs.pythond]]\nname = "x"\ndirs = ["x"]\n',
    });
    const valid = await pythond(['validate', '--config', 'pythond.toml', '--conf-d', 'datakit/conf.d', '--no-load'], { cwd: root });
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /input x \(warm\): 1 script\(s\): good \(python\.d\/x\/good\.py\)/);
    assert.match(valid.stdout, /conf\.d files with no \[\[inputs\.pythond\]\], left alone: datakit\/conf\.d\/host\/cpu\.conf$/m);
    writeFileSync(path.join(root, 'datakit/conf.d/py/x.conf'), '[[inputs.pythond]]\nname = "x"\ndirs = ["nowhere"]\n');
    const invalid = await pythond(['validate', '--config', 'pythond.toml', '--conf-d', 'datakit/conf.d', '--no-load'], { cwd: root });
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /^pythond: config datakit\/conf\.d\/py\/x\.conf:3: inputs\.pythond\[0\]\.dirs\[0\] names "nowhere"/m);
  });

  it('says so when an input cannot start at all', async () => {
    const root = tempTree({
      'python.d/x/good.py': 'from datakit_framework import DataKitFramework\nclass Good(DataKitFramework):\n    def run(self):\n        pass\n',
      'pythond.toml': '[runner]\nexecutor = "process"\n[[inputs.pythond]]\nname = "x"\ndirs = ["x"]\ncmd = "python-nowhere"\n[[outputs.stdout]]\n',
    });
    const { code, stderr } = await pythond(['validate', '--config', path.join(root, 'pythond.toml')]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^.*pythond\.toml: input x cannot start: cannot start the collector host with inputs\.pythond\[0\]\.cmd = "python-nowhere": spawn python-nowhere ENOENT$/m,
    );
  });

  it('exits 1 with every problem of an invalid config', async () => {
    const root = tempTree({ 'bad.toml': '[[inputs.pythond]]\nname = "x"\ndirs = ["nowhere"]\n' });
    const { code, stderr } = await pythond(['validate', '--config', path.join(root, 'bad.toml')]);
    assert.equal(code, 1);
    assert.match(stderr, /bad\.toml:3: inputs\.pythond\[0\]\.dirs\[0\] names "nowhere"/);
    assert.match(stderr, /outputs has no output/);
  });

  it('validates the embedded demo config from any folder: the demo collectors ship with pythond', async () => {
    const { code, stdout, stderr } = await pythond(['validate'], { cwd: tempTree(), env: NO_ENGINE });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.split('\n')[0], 'config <embedded default> is valid and its collectors load');
    assert.match(stdout, new RegExp(`python_d ${path.join(REPO_ROOT, 'python.d').replaceAll('.', '\\.')}`));
    assert.match(stdout, /input demo \(warm\): 4 script\(s\), 4 collector\(s\)/);
  });

  it('loads the scripts in the container the config would use, naming the files as the user knows them', async (t) => {
    if (!(await requireDocker(t))) return;
    const root = brokenTree('docker');
    const { code, stdout, stderr } = await pythond(['validate', '--config', 'pythond.toml'], { cwd: root });
    assert.equal(code, 1, stderr);
    assert.match(stdout, /executor docker,/);
    assert.match(stderr, /^python\.d\/x\/broken\.py:2: input x cannot load broken: SyntaxError/m);
    assert.match(stderr, /^python\.d\/x\/missing\.py:2: input x cannot load missing: ModuleNotFoundError/m);
  });
});

describe('pythond validate and check --input with git repositories', () => {
  it('pull the repositories as run does, then load and run the inputs of their conf.d', async () => {
    const repo = TestRepo.create('collectors');
    repo.push({
      'conf.d/pythond.conf': '[[inputs.pythond]]\nname = "fromgit"\ndirs = ["mytest"]\n',
      'python.d/mytest/mytest.py': `
        from datakit_framework import DataKitFramework

        class FromGit(DataKitFramework):
            interval = 60

            def run(self):
                self.feed_metric(measurement='fromgit', fields={'v': 1})
      `,
      'python.d/mytest/broken.py': 'import nope_module\n',
    });
    const root = tempTree({
      // The process runtime starts its hosts in python_d, which must exist even when every collector comes from a repository.
      'python.d/README': '',
      'pythond.toml': `
        [runner]
        executor = "process"
        [git_repos]
        [[git_repos.repo]]
        url = "${repo.bare}"
        [[outputs.file]]
        path = "data/points.jsonl"
      `,
    });
    const validated = await pythond(['validate', '--config', 'pythond.toml'], { cwd: root });
    assert.equal(validated.code, 1, validated.stderr);
    assert.match(validated.stdout, /^ {2}input fromgit \(warm\): 2 script\(s\), 1 collector\(s\): mytest\.FromGit every 60 s$/m);
    assert.match(validated.stderr, /^\S*gitrepos\/collectors\S*\/python\.d\/mytest\/broken\.py:1: input fromgit cannot load broken: ModuleNotFoundError/m);

    const checked = await pythond(['check', '--config', 'pythond.toml', '--input', 'fromgit', '--collector', 'mytest.FromGit'], { cwd: root });
    assert.equal(checked.code, 1, 'broken.py does not load');
    assert.deepEqual(
      checked.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { measurement: string }).measurement),
      ['fromgit'],
    );
    assert.equal(existsSync(path.join(root, 'data')), false, "the config's data_dir is left to the runner");
  });
});
