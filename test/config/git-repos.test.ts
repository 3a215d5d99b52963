import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoName } from '../../src/config/git-repos.js';
import { ConfigError, parseConfig, type RepoCheckout } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { dedent, tempTree } from '../helpers/fixtures.js';

const SCRIPT = 'from datakit_framework import DataKitFramework\n';
const root = tempTree({
  'python.d/local/a.py': SCRIPT,
  'python.d/shared/a.py': SCRIPT,
  'repos/one/python.d/shared/b.py': SCRIPT,
  'repos/one/python.d/both/c.py': SCRIPT,
  'repos/two/python.d/both/d.py': SCRIPT,
  'repos/two/conf.d/pythond.conf': '[[inputs.pythond]]\nname = "from-two"\ndirs = ["both"]\n',
});
const LOCAL_INPUT = '[[inputs.pythond]]\nname = "local"\ndirs = ["local"]\n';
const checkout = (repo: string): RepoCheckout => ({ repo, commit: `${repo}0123456789abcdef`, dir: path.join(root, 'repos', repo) });

const config = (inputs: string, checkouts: RepoCheckout[] = [checkout('one')]) =>
  parseConfig(
    dedent(`
      [git_repos]
      [[git_repos.repo]]
      url = "https://puller:t0ken@git.example.com/team/one.git"
      ${inputs}
      [[outputs.stdout]]
    `),
    'pythond.toml',
    root,
    PLUGINS,
    checkouts,
  );

describe('git repositories in the config', () => {
  it('names a repository after the last part of its URL', () => {
    assert.deepEqual(
      [
        'https://git.example.com/team/collectors.git',
        'git@host:team/collectors.git',
        'ssh://git@host:22/srv/collectors/',
        '/srv/git/collectors',
        'file:///srv/git/collectors.git',
      ].map(repoName),
      ['collectors', 'collectors', 'collectors', 'collectors', 'collectors'],
    );
  });

  it('reads a relative dir from the repositories first, then from python_d; absolute dirs as they are', () => {
    const { inputs } = config(`
      [[inputs.pythond]]
      name = "x"
      dirs = ["shared", "local", "${path.join(root, 'python.d/local')}"]
    `);
    assert.deepEqual(
      inputs[0]!.discovered.map((dir) => path.relative(root, dir.path)),
      ['repos/one/python.d/shared', 'python.d/local', 'python.d/local'],
    );
  });

  it('refuses a dir found in two repositories, naming both, and runs the rest', () => {
    const { inputs, problems } = config('[[inputs.pythond]]\nname = "x"\ndirs = ["both"]\n[[inputs.pythond]]\nname = "y"\ndirs = ["local"]', [
      checkout('one'),
      checkout('two'),
    ]);
    assert.deepEqual(
      inputs.map((input) => input.name),
      ['y'],
      'the conf.d input of repo two has the same problem',
    );
    assert.match(
      problems[0]!.message,
      /^config pythond\.toml:\d+: inputs\.pythond\[0\]\.dirs\[0\] names "both", but it is in more than one git repository: one and two; rename one of the folders/,
    );
    assert.match(
      problems[1]!.message,
      /^config gitrepos\/two@two012345678:conf\.d\/pythond\.conf:3: inputs\.pythond\[0\]\.dirs\[0\] names "both", but it is in more than one git repository: one and two/,
    );
  });

  it('keeps an input whose dir is in no repository yet out, without stopping the others (a pull may bring it)', () => {
    const { inputs, problems } = config('[[inputs.pythond]]\nname = "later"\ndirs = ["not-pulled-yet"]\n[[inputs.pythond]]\nname = "y"\ndirs = ["local"]', []);
    assert.deepEqual(
      inputs.map((input) => input.name),
      ['y'],
    );
    assert.equal(problems[0]!.input, 'later');
  });

  it('never echoes a URL it refuses, which may hold a token', () => {
    assert.throws(
      () => parseConfig(`[git_repos]\n[[git_repos.repo]]\nurl = "puller:t0ken@nowhere"\n${LOCAL_INPUT}[[outputs.stdout]]\n`, 'pythond.toml', root, PLUGINS),
      (err) =>
        err instanceof ConfigError &&
        err.issues.length === 1 &&
        /git_repos\.repo\[0\]\.url must be an https:\/\/, ssh:\/\/, git@host:path or file:\/\/ URL, or an absolute path to a repository$/.test(
          err.issues[0]!,
        ) &&
        !err.message.includes('t0ken'),
    );
  });

  it('refuses two repositories with one name, and leaves disabled ones out', () => {
    assert.throws(
      () =>
        parseConfig(
          `[git_repos]\n[[git_repos.repo]]\nurl = "/a/one"\n[[git_repos.repo]]\nurl = "/b/one.git"\n${LOCAL_INPUT}[[outputs.stdout]]\n`,
          'pythond.toml',
          root,
          PLUGINS,
        ),
      /git_repos\.repo\[1\]\.url names repository "one" like git_repos\.repo\[0\]; two repositories cannot share a name/,
    );
    const disabled = parseConfig(
      `[git_repos]\n[[git_repos.repo]]\nenable = false\nurl = "/a/one"\n${LOCAL_INPUT}[[outputs.stdout]]\n`,
      'pythond.toml',
      root,
      PLUGINS,
    );
    assert.deepEqual(disabled.gitRepos.repos, []);
  });
});
