import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ReloadResult } from '../../src/http/api-types.js';
import type { RepoStatus } from '../../src/gitrepos/git-repos.js';
import type { InputStatus } from '../../src/inputs/running-input.js';
import { startRunner } from '../helpers/cli.js';
import { requireDocker } from '../helpers/docker.js';
import { dedent, tempTree, waitFor } from '../helpers/fixtures.js';
import { gitHttpServer, sshServer, TestRepo } from '../helpers/git-server.js';

const versioned = (version: number, tag = 'fromgit') => `
from datakit_framework import DataKitFramework

class Versioned(DataKitFramework):
    interval = 1

    def run(self):
        self.feed_metric(measurement='versioned', tags={'input': '${tag}', 'version': '${version}'}, fields={'v': 1})
`;

/** DataKit's layout: inputs in conf.d, collectors in python.d. */
const REPO_FILES = (network: string) => ({
  'conf.d/pythond.conf': `
    [[inputs.pythond]]
    name = "fromgit"
    dirs = ["mytest"]
    ${network}
  `,
  'python.d/mytest/mytest.py': versioned(1),
});

interface Status {
  runner: { lastReload?: ReloadResult };
  inputs: InputStatus[];
  gitRepos: RepoStatus[];
}

const points = (file: string): { tags: Record<string, string>; time: bigint }[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ ...(JSON.parse(line) as { tags: Record<string, string> }), time: BigInt(/"time":(\d+)\}$/.exec(line)![1]!) }))
    : [];

/** A config pulling `repos` (the lines of each `[[git_repos.repo]]` block) every second, with a file output; `extra` adds TOML. */
const gitConfig = (options: { executor?: string; repos: string[]; extra?: string }) => `
[runner]
executor = "${options.executor ?? 'process'}"
listen = "127.0.0.1:0"
[git_repos]
pull_interval = "1s"
${options.repos.map((repo) => `[[git_repos.repo]]\n${repo}`).join('\n')}
${options.extra ?? ''}
[[outputs.file]]
path = "data/points.jsonl"
`;

/** A `pythond run` over `config` (and python.d/local, unless `local` is false) in a temp tree. */
function runnerOver(config: string, env: NodeJS.ProcessEnv = {}, local = true) {
  const root = tempTree({ ...(local ? { 'python.d/local/local.py': versioned(1, 'local') } : {}), 'pythond.toml': config });
  const runner = startRunner(['--config', 'pythond.toml'], { cwd: root, env });
  const url = waitFor(() => /HTTP API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(runner.log())?.[1], 'the listening line');
  const status = async (): Promise<Status> => (await (await fetch(`${await url}/v1/collectors`)).json()) as Status;
  const stop = async (): Promise<void> => {
    const { code } = await runner.stop();
    assert.equal(code, 0, runner.log().slice(-3000));
  };
  return { root, runner, url, status, stop, pointsFile: path.join(root, 'data/points.jsonl') };
}

describe('collectors from git repositories', () => {
  it("runs a repository's conf.d inputs, takes a pushed change within a pull and an interval, keeps the old version over a broken commit, and leaves other inputs alone", async (t) => {
    if (!(await requireDocker(t))) return;
    const repo = TestRepo.create('collectors');
    repo.push(REPO_FILES('network = "none"\ntags = { input = "fromgit" }'));
    const run = runnerOver(
      gitConfig({
        executor: 'docker',
        repos: [`url = "file://${repo.bare}"\nbranch = "master"`],
        extra: '[[inputs.pythond]]\nname = "local"\ndirs = ["local"]\nnetwork = "none"',
      }),
    );
    try {
      const hostOf = (status: Status, input: string) => status.inputs.find((i) => i.input === input)!.collectors[0]!.host!;
      const latest = (input: string, after = 0n) => points(run.pointsFile).filter((p) => p.tags.input === input && p.time > after);
      await waitFor(() => latest('fromgit').length > 0 && latest('local').length > 0, 'both inputs ticking', 60_000);
      const before = await run.status();
      const localHost = hostOf(before, 'local');
      assert.equal(before.gitRepos[0]!.repo, 'collectors');
      assert.equal(before.gitRepos[0]!.failures, 0);

      // A pushed change: new points within one pull (1 s) and one interval (1 s), plus the trial start.
      const pushedAt = Date.now();
      const v2 = repo.push({ 'python.d/mytest/mytest.py': versioned(2) });
      await waitFor(() => latest('fromgit').some((p) => p.tags.version === '2'), 'the pushed version reporting', 30_000);
      t.diagnostic(`push to new points: ${((Date.now() - pushedAt) / 1000).toFixed(1)} s`);
      const afterPush = await run.status();
      assert.equal(afterPush.gitRepos[0]!.commit, v2);
      assert.equal(hostOf(afterPush, 'local'), localHost, 'the local input keeps its container');
      const skipped = (await (await fetch(`${await run.url}/metrics`)).text()).match(/^pythond_ticks_skipped_total\{input="local".*$/m);
      assert.equal(skipped, null, 'no tick of the local input was skipped');

      // A broken commit: the running version stays, and the error names the file and the line.
      repo.push({ 'python.d/mytest/mytest.py': 'from datakit_framework import DataKitFramework\n\nclass Broken(DataKitFramework:\n    pass\n' }, 'broken');
      const failed = await waitFor(async () => (await run.status()).runner.lastReload?.failed[0], 'the failed reload', 30_000);
      assert.equal(failed.input, 'fromgit');
      assert.match(failed.error, /mytest\.py.*SyntaxError.*line 3|mytest\.py:3/);
      const whenBroken = BigInt(Date.now()) * 1_000_000n;
      await waitFor(() => latest('fromgit', whenBroken).some((p) => p.tags.version === '2'), 'version 2 still reporting');

      // The fix.
      repo.push({ 'python.d/mytest/mytest.py': versioned(3) }, 'fix');
      await waitFor(() => latest('fromgit').some((p) => p.tags.version === '3'), 'the fixed version reporting', 30_000);
      assert.equal(hostOf(await run.status(), 'local'), localHost);
      // Commits no input runs any more are cleaned up once the reload that left them ends
      // (the new version reports from its trial start, before that).
      const unpacked = () => readdirSync(path.join(run.root, 'data/gitrepos/collectors')).filter((name) => /^[0-9a-f]{12}$/.test(name));
      await waitFor(() => unpacked().length <= 2, 'old commits removed', 10_000).catch(() => {
        assert.fail(`unpacked commits left: ${unpacked().join(', ')}`);
      });
    } finally {
      await run.stop();
    }
  });

  it('watches a local folder that an input pulled from a repository brought in: editing a script in it reloads that input', async () => {
    const repo = TestRepo.create('collectors');
    repo.push(REPO_FILES(''));
    const run = runnerOver(gitConfig({ repos: [`url = "${repo.bare}"`] }));
    try {
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'fromgit'), "the repository's input reporting", 60_000);
      // A conf.d block naming a folder the repository does not have: it is the runner's own python.d/local.
      const commit = repo.push({ 'conf.d/local.conf': '[[inputs.pythond]]\nname = "fromlocal"\ndirs = ["local"]\n' }, 'a local input');
      const pulled = await waitFor(
        async () => {
          const { lastReload } = (await run.status()).runner;
          return lastReload?.trigger.includes(commit.slice(0, 12)) ? lastReload : undefined;
        },
        'the reload of the pulled commit',
        30_000,
      );
      assert.deepEqual(pulled.added, ['fromlocal'], JSON.stringify(pulled));

      writeFileSync(path.join(run.root, 'python.d/local/local.py'), dedent(versioned(2, 'local')));
      const edited = await waitFor(
        async () => {
          const { lastReload } = (await run.status()).runner;
          return lastReload && lastReload.at !== pulled.at ? lastReload : undefined;
        },
        'a reload after the edit of python.d/local/local.py',
        30_000,
      );
      assert.match(edited.trigger, /local\.py changed/);
      assert.deepEqual(edited.restarted, ['fromlocal'], JSON.stringify(edited));
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'local' && p.tags.version === '2'), 'the edited version reporting', 30_000);
    } finally {
      await run.stop();
    }
  });

  it('keeps the folder of the commit an input runs from while a newer commit is refused (fresh hosts read it at every tick)', async () => {
    const repo = TestRepo.create('collectors');
    repo.push(REPO_FILES('mode = "fresh"\ntimeout = "10s"'));
    const run = runnerOver(gitConfig({ repos: [`url = "${repo.bare}"`] }));
    try {
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'fromgit'), "the repository's input reporting", 60_000);
      repo.push({ 'python.d/mytest/mytest.py': 'raise ImportError("not this one")\n' }, 'broken');
      await waitFor(async () => (await run.status()).runner.lastReload?.failed[0], 'the refused reload', 30_000);
      const after = BigInt(Date.now()) * 1_000_000n;
      await waitFor(
        () => points(run.pointsFile).filter((p) => p.tags.input === 'fromgit' && p.time > after).length >= 3,
        'three more ticks of the running version',
        60_000,
      );
      const input = (await run.status()).inputs.find((i) => i.input === 'fromgit')!;
      assert.equal(input.collectors[0]!.lastStatus, 'ok', input.collectors[0]!.lastError);
    } finally {
      await run.stop();
    }
  });

  it(`pulls over HTTP with basic auth (the token from a \${file:...} reference), and the credentials appear in no log, status, metric, file or process argument`, async () => {
    const repo = TestRepo.create('collectors');
    repo.push(REPO_FILES(''));
    const secret = 's3cret-t0ken';
    const tokenFile = path.join(tempTree({ git_token: `${secret}\n` }), 'git_token');
    const server = await gitHttpServer(path.dirname(repo.bare), { user: 'puller', password: secret });
    // Every git command the runner starts goes through this, which writes down its arguments (what `ps` shows).
    const bin = tempTree({ git: `#!/bin/sh\nprintf '%s\\n' "$*" >> "$(dirname "$0")/argv.log"\nexec /usr/bin/git "$@"\n` });
    chmodSync(path.join(bin, 'git'), 0o755);
    const run = runnerOver(
      gitConfig({
        repos: [
          `url = "${server.url.replace('//', `//puller:\${file:${tokenFile}}@`)}/collectors.git"`,
          `url = "${server.url.replace('//', '//puller:wrong-password@')}/others/collectors-too.git"`,
        ],
      }),
      { PATH: `${bin}:${process.env.PATH}` },
    );
    try {
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'fromgit'), "the repository's input reporting", 60_000);
      const status = await run.status();
      const other = status.gitRepos.find((r) => r.repo === 'collectors-too')!;
      assert.match(other.lastError!, /Authentication failed|401/);
      assert.equal(other.url, `${server.url}/others/collectors-too.git`);
      const metrics = await (await fetch(`${await run.url}/metrics`)).text();
      assert.match(metrics, /^pythond_git_pulls_total\{repo="collectors-too",result="error"\} [1-9]/m, 'the failed pull counted');
      assert.ok(run.runner.log().includes(`git repo collectors-too (${other.url}): pull failed: `), 'the failed pull logged');
      const everywhere = [
        run.runner.log(),
        JSON.stringify(status),
        metrics,
        readFileSync(path.join(bin, 'argv.log'), 'utf8'),
        readFileSync(path.join(run.root, 'data/gitrepos/collectors/repo.git/config'), 'utf8'),
      ];
      assert.ok(readFileSync(path.join(bin, 'argv.log'), 'utf8').includes('fetch'), 'the git commands were seen');
      for (const text of everywhere) {
        assert.ok(!text.includes(secret) && !text.includes('wrong-password'), `a credential leaked into: ${text.slice(0, 300)}`);
      }
    } finally {
      await run.stop();
      server.close();
    }
  });

  it('pulls over ssh with a deploy key that has a passphrase', async (t) => {
    const passphrase = 'deploy key phrase';
    const ssh = await sshServer(t, passphrase);
    if (!ssh) return;
    const repo = TestRepo.create('collectors');
    repo.push(REPO_FILES(''));
    const run = runnerOver(
      gitConfig({
        repos: [`url = "ssh://root@127.0.0.1:${ssh.port}${repo.bare}"\nssh_private_key_path = "${ssh.key}"\nssh_private_key_password = "${passphrase}"`],
      }),
    );
    try {
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'fromgit'), "the repository's input reporting", 60_000);
      const status = await run.status();
      assert.equal(status.gitRepos[0]!.failures, 0);
      assert.ok(!run.runner.log().includes(passphrase));
    } finally {
      await run.stop();
      ssh.close();
    }
  });

  it('shows a broken conf.d file with the repository, the commit, the file and the line, and runs the other inputs', async () => {
    const repo = TestRepo.create('collectors');
    const commit = repo.push({ ...REPO_FILES(''), 'conf.d/broken.conf': '[[inputs.pythond]]\nname = "broken"\ndirs = ["mytest"]\nmemory = "lots"\n' });
    // No python.d of its own: every collector comes from the repository.
    const run = runnerOver(gitConfig({ repos: [`url = "${repo.bare}"`] }), {}, false);
    try {
      await waitFor(() => points(run.pointsFile).some((p) => p.tags.input === 'fromgit'), 'the good input reporting', 60_000);
      const broken = (await run.status()).inputs.find((input) => input.input === 'broken')!;
      assert.equal(broken.state, 'failed');
      assert.equal(
        broken.error,
        `config gitrepos/collectors@${commit.slice(0, 12)}:conf.d/broken.conf:4: inputs.pythond[0].memory must be a size such as "64k", "128m" or "1g" of at least 6 MiB, got "lots"`,
      );
    } finally {
      await run.stop();
    }
  });
});
