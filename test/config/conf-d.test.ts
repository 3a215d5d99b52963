import assert from 'node:assert/strict';
import { chmodSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig, type RepoCheckout } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { configIssues } from '../helpers/config-issues.js';
import { dedent, tempTree } from '../helpers/fixtures.js';

const SCRIPT = 'from datakit_framework import DataKitFramework\n';
const MAIN = '[[outputs.stdout]]\n';

/** DataKit's own files, as an operator's conf.d holds them beside pythond's. */
const DATAKIT_FILES = {
  'conf.d/datakit.conf': 'name = "dk"\n[http_api]\nlisten = "0.0.0.0:9529"\n[global_host_tags]\nhost = "__datakit_hostname"\n',
  'conf.d/host/cpu.conf': '[[inputs.cpu]]\npercpu = false\n[inputs.cpu.tags]\nrole = "web"\n',
  'conf.d/db/mysql.conf': '[inputs.mysql]\nhost = "localhost"\nuser = "datakit"\n',
};

/** A config folder holding `files`, read with pythond.toml = `main`. */
function read(files: Record<string, string>, main = MAIN, options: { confD?: string; checkouts?: RepoCheckout[] } = {}) {
  const root = tempTree({ 'python.d/a/a.py': SCRIPT, 'python.d/b/b.py': SCRIPT, ...files });
  const config = parseConfig(dedent(main), path.join(root, 'pythond.toml'), root, PLUGINS, options.checkouts ?? [], options.confD);
  return { root, config };
}

/** Runs `work` as a user who is not root, as a file's mode applies to pythond when it runs as one (uid 65534, nobody). */
function unprivileged<T>(work: () => T): T {
  if (process.geteuid?.() !== 0) return work();
  process.seteuid!(65534);
  try {
    return work();
  } finally {
    process.seteuid!(0);
  }
}

const errors = (files: Record<string, string>, main = MAIN, confD?: string): string[] => configIssues(() => read(files, main, { confD }));

describe('conf.d, as DataKit reads it', () => {
  it("runs the pythond inputs of every *.conf, sub-folders included, and leaves other inputs' files alone", () => {
    const { root, config } = read({
      ...DATAKIT_FILES,
      'conf.d/team/web/collectors/pythond.conf': '[[inputs.pythond]]\nname = "deep"\ndirs = ["a"]\n',
      // pythond's block beside another input's, in one file: the other is DataKit's.
      'conf.d/mixed.conf': '[[inputs.cpu]]\n[[inputs.pythond]]\nname = "mixed"\ndirs = ["b"]\n',
      'conf.d/notes.txt': '[[inputs.pythond]]\nname = "not a conf file"\n',
    });
    assert.deepEqual(
      config.inputs.map((input) => [input.name, path.relative(root, input.discovered[0]!.path)]),
      [
        ['mixed', 'python.d/b'],
        ['deep', 'python.d/a'],
      ],
    );
    assert.deepEqual(config.problems, []);
    assert.equal(config.runner.conf_d, path.join(root, 'conf.d'));
    assert.deepEqual(
      config.skippedFiles.map((file) => path.relative(root, file)),
      ['conf.d/datakit.conf', 'conf.d/db/mysql.conf', 'conf.d/host/cpu.conf'],
    );
  });

  it('names the file and the line of a problem in a conf.d file, and nothing runs', () => {
    const issues = errors({ 'conf.d/sub/bad.conf': '# a comment\n[[inputs.pythond]]\nname = "x"\ndirs = []\n' });
    assert.equal(issues.length, 1);
    assert.match(issues[0]!, /^config \/.*\/conf\.d\/sub\/bad\.conf:4: inputs\.pythond\[0\]\.dirs must be a non-empty list/);
  });

  it('refuses one input name in two files, naming both files', () => {
    const issues = errors({
      'conf.d/a.conf': '[[inputs.pythond]]\nname = "same"\ndirs = ["a"]\n',
      'conf.d/b/b.conf': '# b\n[[inputs.pythond]]\nname = "same"\ndirs = ["b"]\n',
    });
    assert.equal(issues.length, 1);
    assert.match(
      issues[0]!,
      /conf\.d\/b\/b\.conf:3: inputs\.pythond\[0\]\.name "same" is already the name of inputs\.pythond\[0\] of \/.*\/conf\.d\/a\.conf; input names must be unique$/,
    );
  });

  it('refuses a name of the config file taken again in conf.d, naming the config file', () => {
    const issues = errors(
      { 'conf.d/a.conf': '[[inputs.pythond]]\nname = "same"\ndirs = ["a"]\n' },
      '[[inputs.pythond]]\nname = "same"\ndirs = ["b"]\n[[outputs.stdout]]\n',
    );
    assert.match(issues[0]!, /conf\.d\/a\.conf:2: inputs\.pythond\[0\]\.name "same" is already the name of inputs\.pythond\[0\] of \/.*\/pythond\.toml;/);
  });

  it('takes only [[inputs.pythond]] from a conf.d file: a [runner] there is an error naming the file', () => {
    const issues = errors({ 'conf.d/p.conf': '[runner]\nconcurrency = 2\n[[inputs.pythond]]\nname = "x"\ndirs = ["a"]\n' });
    assert.match(issues[0]!, /conf\.d\/p\.conf:1: runner is not read from conf\.d: only \[\[inputs\.pythond\]\] blocks are/);
  });

  it('skips a file pythond cannot read as TOML when it names no pythond input, but not one that does', () => {
    const { root, config } = read({
      'conf.d/odd.conf': '[[inputs.odd]]\nvalue = 1979-05-27T07:32:00-08:00x\n',
      'conf.d/py.conf': '[[inputs.pythond]]\nname = "x"\ndirs = ["a"]\n',
    });
    assert.deepEqual(
      config.skippedFiles.map((file) => path.relative(root, file)),
      ['conf.d/odd.conf (not TOML pythond can read (line 2))'],
    );
    const issues = errors({ 'conf.d/broken.conf': '[[inputs.pythond]]\nname = "x\n' });
    assert.match(issues[0]!, /^config \/.*\/conf\.d\/broken\.conf:2:\d+: this "string" is not closed on its line: .*\n {2}2 \| name = "x\n/);
  });

  it("skips hidden folders (a mounted ConfigMap's ..data) and reads a linked file once", () => {
    const root = tempTree({ 'python.d/a/a.py': SCRIPT, 'cm/..2024_01_01/py.conf': '[[inputs.pythond]]\nname = "linked"\ndirs = ["a"]\n' });
    // As the kubelet lays a ConfigMap out: the files are links through ..data to a hidden folder of the current version.
    symlinkSync('..2024_01_01', path.join(root, 'cm/..data'));
    symlinkSync('..data/py.conf', path.join(root, 'cm/py.conf'));
    const config = parseConfig(MAIN, path.join(root, 'pythond.toml'), root, PLUGINS, [], path.join(root, 'cm'));
    assert.deepEqual(
      config.inputs.map((input) => input.name),
      ['linked'],
    );
  });

  it('reads [runner] conf_d, and --conf-d instead of it; a folder that is not there is an error naming the key or the option', () => {
    const files = { 'elsewhere/x.conf': '[[inputs.pythond]]\nname = "x"\ndirs = ["a"]\n', 'conf.d/y.conf': '[[inputs.pythond]]\nname = "y"\ndirs = ["a"]\n' };
    assert.deepEqual(
      read(files, `[runner]\nconf_d = "elsewhere"\n${MAIN}`).config.inputs.map((input) => input.name),
      ['x'],
    );
    const { root } = read(files);
    assert.deepEqual(
      parseConfig(MAIN, path.join(root, 'pythond.toml'), root, PLUGINS, [], path.join(root, 'elsewhere')).inputs.map((input) => input.name),
      ['x'],
    );
    assert.match(
      errors(files, `[runner]\nconf_d = "nowhere"\n${MAIN}`)[0]!,
      /pythond\.toml:2: runner\.conf_d must be an existing folder, but .*nowhere is not there/,
    );
    assert.match(errors(files, MAIN, '/no/such/folder')[0]!, /runner\.conf_d is given as --conf-d \/no\/such\/folder, which is not a folder/);
  });

  it("names a conf.d file or sub-folder pythond may not read (DataKit's are often root's own, mode 600) instead of failing with an exception", () => {
    const files = { ...DATAKIT_FILES, 'conf.d/py.conf': '[[inputs.pythond]]\nname = "x"\ndirs = ["a"]\n', 'conf.d/secret/keys.conf': '' };
    const { root } = read(files);
    chmodSync(root, 0o755);
    const readAsOther = (): string[] => unprivileged(() => configIssues(() => parseConfig(MAIN, path.join(root, 'pythond.toml'), root, PLUGINS, [])));
    chmodSync(path.join(root, 'conf.d/db/mysql.conf'), 0o600);
    assert.deepEqual(readAsOther(), [
      `config ${path.join(root, 'conf.d/db/mysql.conf')}: cannot read the file: EACCES: permission denied, open '${path.join(root, 'conf.d/db/mysql.conf')}'`,
    ]);
    chmodSync(path.join(root, 'conf.d/secret'), 0o700);
    assert.deepEqual(readAsOther(), [
      `config ${path.join(root, 'conf.d')}: cannot read the conf.d folder: EACCES: permission denied, scandir '${path.join(root, 'conf.d/secret')}'`,
    ]);
  });

  it('needs an input somewhere: neither the config file nor conf.d having one is an error saying both', () => {
    assert.match(errors(DATAKIT_FILES)[0]!, /inputs has no \[\[inputs\.pythond\]\] block \(nor has any \*\.conf of .*conf\.d\); add one/);
  });

  it("reads a git repository's conf.d recursively too, leaving other inputs' files alone", () => {
    const root = tempTree({});
    const repo = tempTree({
      'python.d/r/r.py': SCRIPT,
      'conf.d/host/cpu.conf': DATAKIT_FILES['conf.d/host/cpu.conf'],
      'conf.d/team/pythond.conf': '[[inputs.pythond]]\nname = "from-repo"\ndirs = ["r"]\n',
    });
    const main = '[git_repos]\n[[git_repos.repo]]\nurl = "https://git.example.com/team/collectors.git"\n[[outputs.stdout]]\n';
    const config = parseConfig(main, path.join(root, 'pythond.toml'), root, PLUGINS, [{ repo: 'collectors', commit: 'c0ffee0123456789', dir: repo }]);
    assert.deepEqual(
      config.inputs.map((input) => [input.name, input.source]),
      [['from-repo', 'gitrepos/collectors@c0ffee012345:conf.d/team/pythond.conf']],
    );
    assert.deepEqual(config.problems, []);
    assert.deepEqual(config.skippedFiles, ['gitrepos/collectors:conf.d/host/cpu.conf']);
  });
});
