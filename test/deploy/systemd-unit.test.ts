import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { PLUGINS } from '../../src/plugins.js';
import { exec } from '../helpers/exec.js';
import { REPO_ROOT, tempTree } from '../helpers/fixtures.js';
import { cannotRun } from '../helpers/required.js';

const UNIT = path.join(REPO_ROOT, 'deploy/pythond.service');
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/** The unit's `Key=value` lines of its [Service] section, by key. */
function serviceSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line)?.[1];
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (header) section = header;
    else if (section === 'Service' && setting) settings.set(setting[1]!, setting[2]!);
  }
  return settings;
}

/**
 * A root for `systemd-analyze --root`: Debian's own units (the targets the
 * unit is ordered after), the unit where an administrator puts it, and an
 * executable where its commands are (the package installs pythond there).
 */
function unitRoot(unit: string): string {
  const root = tempTree();
  cpSync(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true });
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(path.join(root, 'etc/systemd/system/pythond.service'), unit);
  for (const command of ['/usr/local/bin/pythond', '/bin/kill']) {
    mkdirSync(path.join(root, path.dirname(command)), { recursive: true });
    copyFileSync('/bin/true', path.join(root, command));
    chmodSync(path.join(root, command), 0o755);
  }
  return root;
}

function requireSystemd(t: TestContext): boolean {
  if (existsSync('/usr/bin/systemd-analyze') && existsSync(SYSTEM_UNITS)) return true;
  cannotRun(t, "needs systemd-analyze (Debian's systemd package)");
  return false;
}

/** `systemd-analyze verify` of `unit` installed in /etc/systemd/system of a root of its own: exit code and what it said. */
async function verify(unit: string): Promise<{ code: number | null; said: string }> {
  const root = unitRoot(unit);
  const { code, stdout, stderr } = await exec('systemd-analyze', ['verify', '--man=no', `--root=${root}`, '/etc/systemd/system/pythond.service'], {
    allowFailure: true,
  });
  return { code, said: `${stdout}${stderr}`.trim() };
}

describe('the systemd unit', () => {
  it('passes systemd-analyze verify as it is, and fails it with a mistake in it', async (t) => {
    if (!requireSystemd(t)) return;
    const text = readFileSync(UNIT, 'utf8');
    assert.deepEqual(await verify(text), { code: 0, said: '' });
    const broken = await verify(text.replace('ExecStart=/usr/local/bin/pythond', 'ExecStart=/usr/local/bin/pythondd'));
    assert.notEqual(broken.code, 0);
    assert.match(broken.said, /Command \/usr\/local\/bin\/pythondd is not executable/);
  });

  it('runs pythond hardened, as the issue asks: no new privileges, a read-only system but its data_dir, in the docker group', () => {
    const settings = serviceSettings(readFileSync(UNIT, 'utf8'));
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ReadWritePaths', '/var/lib/pythond'],
      ['SupplementaryGroups', 'docker'],
      ['User', 'pythond'],
      ['CapabilityBoundingSet', ''],
      ['KillMode', 'mixed'],
    ]) {
      assert.equal(settings.get(key!), value, key);
    }
  });

  it('is rated OK by systemd-analyze security (exposure 2.0 or less of 10)', async (t) => {
    if (!requireSystemd(t)) return;
    const root = unitRoot(readFileSync(UNIT, 'utf8'));
    const { stdout } = await exec('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', 'pythond.service']);
    const exposure = Number(/Overall exposure level for pythond\.service: (\d+\.\d+)/.exec(stdout)?.[1]);
    assert.ok(exposure <= 2.0, `exposure ${exposure}:\n${stdout}`);
  });

  it("installs with the steps of docs/install.md: its config keeps data in the unit's ReadWritePaths, and loads", () => {
    const install = readFileSync(path.join(REPO_ROOT, 'docs/install.md'), 'utf8');
    const sample = /```toml\n# \/etc\/pythond\/pythond\.toml\n([\s\S]*?)```/.exec(install)?.[1];
    assert.ok(sample, 'docs/install.md shows /etc/pythond/pythond.toml');
    const root = tempTree({ 'python.d/mine/mine.py': 'x = 1\n' });
    const config = parseConfig(sample.replace('/etc/pythond/python.d', path.join(root, 'python.d')), '/etc/pythond/pythond.toml', root, PLUGINS);
    assert.equal(config.runner.data_dir, serviceSettings(readFileSync(UNIT, 'utf8')).get('ReadWritePaths'));
    for (const step of ['install -m 0644 /usr/local/lib/node_modules/pythond/deploy/pythond.service /etc/systemd/system/', 'systemctl enable --now pythond']) {
      assert.ok(install.includes(step), `docs/install.md says: ${step}`);
    }
  });
});
