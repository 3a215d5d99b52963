import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { planReload } from '../../src/reload/plan.js';
import type { Secret } from '../../src/schema/secret.js';
import { configIssues } from '../helpers/config-issues.js';
import { dedent, tempTree } from '../helpers/fixtures.js';

const VALUE = 'pa$$-w0rd {x}';

function setup() {
  const base = tempTree({
    'python.d/demo/a.py': 'x = 1\n',
    'secrets/db': `${VALUE}\n`,
    'secrets/token': 'tok-1',
    'confd/sub/db.conf': `[[inputs.pythond]]\nname = "db"\ndirs = ["demo"]\nsecrets = { DB = "\${file:../../secrets/db}" }\n`,
  });
  const load = (toml: string, confD?: string) => parseConfig(dedent(toml), 'pythond.toml', base, PLUGINS, [], confD);
  return { base, load, problems: (toml: string, confD?: string) => configIssues(() => load(toml, confD)) };
}

const INPUT = `
  [[inputs.pythond]]
  name = "demo"
  dirs = ["demo"]
`;
const OUTPUT = `
  [[outputs.file]]
  path = "out.jsonl"
`;

describe('secrets in the config', () => {
  it(`reads \${env:...} and \${file:...} (relative to the file naming it, one trailing newline dropped), whole or inside a string; $\${ is a literal`, () => {
    const { base, load } = setup();
    process.env.PYTHOND_TEST_TOKEN = 'env-token';
    const config = load(
      `
      [runner]
      api_token = "\${env:PYTHOND_TEST_TOKEN}"
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      envs = ["PLAIN=1", "FROM_ENV=x-\${env:PYTHOND_TEST_TOKEN}-y"]
      secrets = { DB = "\${file:secrets/db}", LITERAL = "written" }
      tags = { costs = "$\${HOME}", region = "\${env:PYTHOND_TEST_TOKEN}" }
      [[outputs.influxdb]]
      url = "http://127.0.0.1:8086"
      database = "d"
      token = "\${file:BASE_DIR/secrets/token}"
    `.replace('BASE_DIR', base),
    );
    const input = config.inputs[0]!;
    assert.equal(config.runner.api_token?.reveal(), 'env-token');
    assert.deepEqual(input.envs, ['PLAIN=1']);
    assert.deepEqual(Object.fromEntries(Object.entries(input.secrets).map(([k, v]) => [k, v.reveal()])), {
      DB: VALUE,
      LITERAL: 'written',
      FROM_ENV: 'x-env-token-y',
    });
    // A tag is configuration, not a credential: its value as written there.
    assert.deepEqual(input.tags, { costs: `\${HOME}`, region: 'env-token' });
    assert.equal((config.outputs[0]!.options.token as Secret).reveal(), 'tok-1');
    assert.deepEqual([...config.secretFiles].sort(), [path.join(base, 'secrets/db'), path.join(base, 'secrets/token')]);
  });

  it('prints every credential as <secret>: JSON, template strings, util.inspect, the config as a whole', () => {
    const { load } = setup();
    const config = load(`
      [runner]
      api_token = "written-token-1"
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      secrets = { DB = "\${file:secrets/db}" }
      [[outputs.influxdb]]
      url = "http://127.0.0.1:8086"
      database = "d"
      username = "u"
      password = "written-password-2"
      [[git_repos.repo]]
      url = "https://bot:git-token-3@git.example/c.git"
      ssh_private_key_password = "passphrase-4"
      [cluster]
      username = "u"
      password = "etcd-password-5"
    `);
    const printed = [JSON.stringify(config), inspect(config, { depth: null }), `${config.runner.api_token}`, String(config.inputs[0]?.secrets.DB)].join('\n');
    for (const value of [VALUE, 'written-token-1', 'written-password-2', 'git-token-3', 'passphrase-4', 'etcd-password-5'])
      assert.ok(!printed.includes(value), value);
    assert.match(printed, /<secret>/);
  });

  it('reads references in conf.d files, relative to their own folder', () => {
    const { base, load } = setup();
    const config = load(OUTPUT, path.join(base, 'confd'));
    assert.equal(config.inputs[0]?.secrets.DB?.reveal(), VALUE);
    assert.deepEqual(config.secretFiles, [path.join(base, 'secrets/db')]);
  });

  it('names the file, line, key and reference of a missing variable or an unreadable file, never a value', () => {
    const { base, problems } = setup();
    delete process.env.PYTHOND_TEST_MISSING;
    writeFileSync(path.join(base, 'secrets/locked'), 'locked-value');
    chmodSync(path.join(base, 'secrets/locked'), 0o000);
    const issues = problems(`
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      secrets = { A = "\${env:PYTHOND_TEST_MISSING}", B = "\${file:secrets/nope}", C = "\${file:secrets/locked}", D = "\${vault:x}", E = "\${env:A" }
      [[outputs.influxdb]]
      url = "http://127.0.0.1:8086"
      database = "d"
      token = "\${env:PYTHOND_TEST_MISSING}"
    `);
    const root = process.getuid?.() === 0;
    assert.deepEqual(issues, [
      `config pythond.toml:4: inputs.pythond[0].secrets.A has the reference \${env:PYTHOND_TEST_MISSING}, but the runner has no environment variable PYTHOND_TEST_MISSING`,
      `config pythond.toml:4: inputs.pythond[0].secrets.B has the reference \${file:secrets/nope}, but ${path.join(base, 'secrets/nope')} cannot be read (no such file)`,
      ...(root
        ? []
        : [
            `config pythond.toml:4: inputs.pythond[0].secrets.C has the reference \${file:secrets/locked}, but ${path.join(base, 'secrets/locked')} cannot be read (permission denied)`,
          ]),
      `config pythond.toml:4: inputs.pythond[0].secrets.D has the reference \${vault:x}, but a reference is \${env:NAME} or \${file:PATH}; write $\${ for a literal "\${"`,
      'config pythond.toml:4: inputs.pythond[0].secrets.E has a "${" that is never closed; write $${ for a literal "${"',
      `config pythond.toml:8: outputs.influxdb[0].token has the reference \${env:PYTHOND_TEST_MISSING}, but the runner has no environment variable PYTHOND_TEST_MISSING`,
    ]);
  });

  it('prints <secret> for a referenced value a key refuses', () => {
    const { problems } = setup();
    process.env.PYTHOND_TEST_MEMORY = 'lots-of-it';
    process.env.PYTHOND_TEST_ENVS = 'no-equals-sign';
    const issues = problems(`
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      memory = "\${env:PYTHOND_TEST_MEMORY}"
      envs = ["\${env:PYTHOND_TEST_ENVS}"]
      ${OUTPUT}
    `);
    assert.equal(issues.join('\n').includes('lots-of-it') || issues.join('\n').includes('no-equals-sign'), false, issues.join('\n'));
    assert.deepEqual(issues, [
      'config pythond.toml:5: inputs.pythond[0].envs[0] must look like "NAME=value", got <secret>',
      'config pythond.toml:4: inputs.pythond[0].memory must be a size such as "64k", "128m" or "1g" of at least 6 MiB, got <secret>',
    ]);
  });

  it('refuses a secret name that is no environment variable name, and one set in both envs and secrets', () => {
    const { problems } = setup();
    const issues = problems(`
      [[inputs.pythond]]
      name = "demo"
      dirs = ["demo"]
      envs = ["DB=plain"]
      secrets = { DB = "x" }
      [[inputs.pythond]]
      name = "other"
      dirs = ["demo"]
      secrets = { "1BAD" = "x" }
      ${OUTPUT}
    `);
    assert.deepEqual(issues, [
      'config pythond.toml:5: inputs.pythond[0].secrets.DB is set in envs too; keep one of them',
      'config pythond.toml:9: inputs.pythond[1].secrets.1BAD is not an environment variable name (letters, digits and _, not starting with a digit)',
    ]);
  });

  it('plans a rotated secret as a restart of the input and a new output, and nothing else', () => {
    const { base, load } = setup();
    const toml = `
      [[inputs.pythond]]
      name = "db"
      dirs = ["demo"]
      secrets = { DB = "\${file:secrets/db}" }
      ${INPUT}
      [[outputs.influxdb]]
      url = "http://127.0.0.1:8086"
      database = "d"
      token = "\${file:secrets/token}"
      ${OUTPUT}
    `;
    const before = load(toml);
    writeFileSync(path.join(base, 'secrets/db'), 'rotated\n');
    writeFileSync(path.join(base, 'secrets/token'), 'tok-2');
    const plan = planReload(before, load(toml));
    assert.deepEqual(
      plan.restart.map((r) => [r.next.name, r.why]),
      [['db', ['secrets']]],
    );
    assert.deepEqual(
      plan.keep.map((k) => [k.next.name, k.live]),
      [['demo', []]],
    );
    assert.deepEqual(
      plan.outputs.add.map((o) => o.id),
      ['influxdb[0]'],
    );
    assert.deepEqual(
      plan.outputs.remove.map((o) => o.id),
      ['influxdb[0]'],
    );
    assert.deepEqual(planReload(before, before).restart, []);
  });
});
