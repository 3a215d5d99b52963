import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { MAIN, pythond } from '../helpers/cli.js';
import { exec } from '../helpers/exec.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('pythond command line', () => {
  it('prints its version and the protocol version of its collector hosts with --version', async () => {
    const { code, stdout } = await pythond(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout, `pythond ${version} (collector host protocol ${PROTOCOL_VERSION})\n`);
    assert.match(
      readFileSync(path.join(REPO_ROOT, 'python.d/core/PROTOCOL.md'), 'utf8'),
      new RegExp(`^# The runner ↔ collector host protocol \\(version ${PROTOCOL_VERSION}\\)$`, 'm'),
    );
  });

  it('runs as the executable the package installs, after any rebuild', async () => {
    assert.ok((statSync(MAIN).mode & 0o111) !== 0, `${MAIN} is executable`);
    const { stdout } = await exec(MAIN, ['--version']);
    assert.equal(stdout, `pythond ${version} (collector host protocol ${PROTOCOL_VERSION})\n`);
  });

  for (const args of [['--help'], ['help'], ['-h']]) {
    it(`lists the commands on stdout with ${args.join(' ')}, exit 0`, async () => {
      const { code, stdout } = await pythond(args);
      assert.equal(code, 0);
      assert.match(stdout, /^pythond .*\n\nusage: pythond <command> \[options\]\n/);
      for (const command of ['run', 'check', 'validate', 'status']) assert.match(stdout, new RegExp(`^  ${command} +\\S`, 'm'));
    });
  }

  for (const [command, usage] of [
    ['run', 'usage: pythond run [--config FILE] [--conf-d DIR] [--log-format pretty|json]'],
    ['check', 'usage: pythond check DIR [--executor auto|docker|process] [--image IMAGE] [--collector ID]'],
    ['validate', 'usage: pythond validate [--config FILE] [--conf-d DIR] [--no-load]'],
    ['status', 'usage: pythond status [--url URL | --config FILE] [--watch]'],
  ] as const) {
    it(`shows the help of ${command} with "${command} --help" and "help ${command}", and does nothing else`, async () => {
      for (const args of [
        [command, '--help'],
        ['help', command],
        [command, '--config', 'nowhere.toml', '-h'],
      ]) {
        const { code, stdout, stderr } = await pythond(args);
        assert.equal(code, 0, stderr);
        assert.equal(stdout.split('\n')[0], usage, args.join(' '));
        assert.match(stdout, /\noptions:\n/);
        assert.equal(stderr, '', 'nothing started, nothing logged');
      }
    });
  }

  // Each wrong command line: exit 2, one line naming what is wrong, then the usage; never a stack trace.
  const mistakes: { args: string[]; first: string }[] = [
    { args: [], first: 'pythond: missing command' },
    { args: ['bogus'], first: 'pythond: unknown command "bogus"' },
    { args: ['chek', 'python.d/demo'], first: 'pythond: unknown command "chek" (did you mean check?)' },
    { args: ['help', 'bogus'], first: 'pythond: unknown command "bogus"' },
    { args: ['--config', 'x.toml', 'run'], first: 'pythond: expected a command before --config; options come after the command' },
    { args: ['run', '--bogus'], first: 'pythond run: unknown option --bogus' },
    { args: ['run', '--confg', 'x.toml'], first: 'pythond run: unknown option --confg (did you mean --config?)' },
    { args: ['run', '-x'], first: 'pythond run: unknown option -x' },
    { args: ['run', '--config'], first: 'pythond run: --config needs a value (FILE)' },
    { args: ['run', '--config', '--log-format', 'json'], first: 'pythond run: --config needs a value (FILE)' },
    { args: ['run', '--log-format', 'yaml'], first: 'pythond run: --log-format must be one of pretty, json; got "yaml"' },
    { args: ['run', '--executor', 'docker'], first: 'pythond run: --executor is an option of check, not of run' },
    { args: ['run', 'extra'], first: 'pythond run: unexpected argument "extra"' },
    { args: ['run', '--config', 'a.toml', '--config', 'b.toml'], first: 'pythond run: --config is given twice' },
    {
      args: ['validate', 'other.toml'],
      first: 'pythond validate: unexpected argument "other.toml"; a config file is given as --config other.toml',
    },
    { args: ['validate', '--no-load=yes'], first: 'pythond validate: --no-load takes no value' },
    { args: ['validate', '--collector', 'x'], first: 'pythond validate: --collector is an option of check, not of validate' },
    { args: ['check'], first: 'pythond check: missing the folder to check (DIR), or --input NAME to check an input of the config' },
    { args: ['check', 'python.d/demo', 'python.d/other'], first: 'pythond check: unexpected argument "python.d/other"' },
    { args: ['check', 'python.d/demo', '--executor', 'podman'], first: 'pythond check: --executor must be one of auto, docker, process; got "podman"' },
    {
      args: ['check', 'python.d/demo', '--input', 'demo'],
      first: 'pythond check: give a folder or --input NAME, not both (got "python.d/demo" and --input demo)',
    },
    { args: ['check', 'python.d/demo', '--image', ' '], first: 'pythond check: --image needs a value (IMAGE)' },
    { args: ['check', '--config', 'pythond.toml'], first: 'pythond check: --config needs --input NAME: the input of the config to check' },
    { args: ['check', '--conf-d', 'conf.d'], first: 'pythond check: --conf-d needs --input NAME: the input of the config to check' },
    { args: ['run', '--conf-d'], first: 'pythond run: --conf-d needs a value (DIR)' },
    {
      args: ['check', '--input', 'demo', '--image', 'other:1'],
      first: "pythond check: --image is for check DIR; an input runs with its config's image, as in production",
    },
    { args: ['check', '--input', 'nope'], first: 'pythond check: no input "nope" in pythond.toml; its inputs: demo' },
    { args: ['status', '--url', 'http://127.0.0.1:9', '--config', 'pythond.toml'], first: 'pythond status: give --url or --config, not both' },
  ];
  for (const { args, first } of mistakes) {
    it(`refuses "pythond ${args.join(' ')}": exit 2, "${first}", then the usage`, async () => {
      const { code, stdout, stderr } = await pythond(args);
      assert.equal(code, 2, stderr);
      const lines = stderr.split('\n');
      assert.equal(lines[0], first);
      assert.match(lines[1]!, /^usage: pythond /);
      assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
      assert.equal(stdout, '');
    });
  }
});
