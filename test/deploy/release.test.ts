import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { VERSION } from '../../src/version.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string; files: string[] };

/** The changelog's versions, newest first, each with its date and the kinds of change it lists. */
function releases(): { version: string; date: string; kinds: string[] }[] {
  const found: { version: string; date: string; kinds: string[] }[] = [];
  for (const line of read('CHANGELOG.md').split('\n')) {
    const release = /^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$/.exec(line);
    if (release) found.push({ version: release[1]!, date: release[2]!, kinds: [] });
    else if (line.startsWith('## ') && line !== '## [Unreleased]') assert.fail(`CHANGELOG.md: "${line}" is neither [Unreleased] nor "## [x.y.z] - YYYY-MM-DD"`);
    const kind = /^### (.+)$/.exec(line)?.[1];
    if (kind && found.length > 0) found.at(-1)!.kinds.push(kind);
  }
  return found;
}

describe('the release', () => {
  it("has the CHANGELOG's latest version in package.json, package-lock.json, the runner (pythond --version) and the Dockerfile's default label", () => {
    const [latest] = releases();
    assert.equal(latest?.version, pkg.version, 'the newest entry of CHANGELOG.md is the version in package.json');
    assert.equal(VERSION, pkg.version);
    const lock = JSON.parse(read('package-lock.json')) as { version: string; packages: Record<string, { version: string }> };
    assert.deepEqual([lock.version, lock.packages['']!.version], [pkg.version, pkg.version]);
    assert.match(read('Dockerfile'), new RegExp(`^ARG VERSION=${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
  });

  it('keeps a changelog from 0.1.0 on, newest first, each version dated, with Keep a Changelog kinds of change', () => {
    const all = releases();
    assert.equal(all.at(-1)?.version, '0.1.0');
    // Each part below 1000: one number orders the versions.
    const order = (version: string): number => version.split('.').reduce((sum, part) => sum * 1000 + Number(part), 0);
    for (let i = 1; i < all.length; i++) {
      assert.ok(order(all[i - 1]!.version) > order(all[i]!.version), `${all[i - 1]!.version} comes before ${all[i]!.version}`);
      assert.ok(all[i - 1]!.date >= all[i]!.date, `${all[i - 1]!.version} is dated after ${all[i]!.version}`);
    }
    const kinds = new Set(['Added', 'Changed', 'Deprecated', 'Removed', 'Fixed', 'Security']);
    for (const release of all)
      assert.deepEqual(
        release.kinds.filter((kind) => !kinds.has(kind)),
        [],
        `the kinds of change of ${release.version}`,
      );
  });

  it('has a LICENSE that is the license package.json names, shipped in the package', () => {
    assert.equal(pkg.license, 'MIT');
    assert.match(read('LICENSE'), /^MIT License\n\nCopyright \(c\) \d{4} .+\n\nPermission is hereby granted, free of charge/);
  });

  it('names in its stability policy the protocol version the runner speaks', () => {
    assert.match(read('docs/stability.md'), new RegExp(`is at \\*\\*version ${PROTOCOL_VERSION}\\*\\*`));
  });
});
