import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { discoverDir, DiscoveryProblem } from '../../src/discovery/discover.js';
import { tempTree } from '../helpers/fixtures.js';

const pythonD = path.join(
  tempTree({
    'python.d/pkg/top.py': '',
    'python.d/pkg/__init__.py': '',
    'python.d/pkg/notes.txt': '',
    'python.d/pkg/.hidden.py': '',
    'python.d/pkg/sub/inner.py': '',
    'python.d/pkg/sub/__init__.py': '',
    'python.d/pkg/sub/deeper/too_deep.py': '',
    'python.d/pkg/__pycache__/top.cpython-311.py': '',
    'python.d/single.py': '',
    'python.d/empty/readme.md': '',
  }),
  'python.d',
);

describe('discovery, as DataKit finds scripts', () => {
  it('takes the scripts of a folder and of its immediate subfolders, named <stem> and <sub>.<stem>', () => {
    const dir = discoverDir(pythonD, 'pkg');
    assert.deepEqual(
      dir.modules.map((m) => [m.module, path.relative(pythonD, m.file)]),
      [
        ['top', 'pkg/top.py'],
        ['sub.inner', 'pkg/sub/inner.py'],
      ],
      '__init__.py, hidden files, __pycache__, non-scripts and depth 3 are left out',
    );
  });

  it('takes a dirs entry that names one script', () => {
    assert.deepEqual(
      discoverDir(pythonD, 'single.py').modules.map((m) => m.module),
      ['single'],
    );
  });

  it('reads absolute entries as they are', () => {
    assert.equal(discoverDir('/nowhere', path.join(pythonD, 'pkg')).modules.length, 2);
  });

  it('says so when a folder does not exist or holds no script', () => {
    assert.throws(
      () => discoverDir(pythonD, 'missing'),
      (err) => err instanceof DiscoveryProblem && /folder .*python\.d\/missing does not exist/.test(err.message),
    );
    assert.throws(() => discoverDir(pythonD, 'empty'), /has no collector scripts \(\*\.py, not __init__\.py\)/);
  });
});

describe('discovery, as Python imports modules', () => {
  const root = path.join(
    tempTree({
      'python.d/mixed/b.py': '',
      'python.d/mixed/B.py': '',
      'python.d/mixed/a.py': '',
      'python.d/mixed/upper.PY': '',
      'python.d/mixed/.git/hook.py': '',
      'python.d/mixed/Zsub/z.py': '',
      'python.d/mixed/asub/y.py': '',
      'python.d/real/linked.py': '',
      'python.d/real/folder/inner.py': '',
    }),
    'python.d',
  );
  symlinkSync(path.join(root, 'real/linked.py'), path.join(root, 'mixed/link.py'));
  symlinkSync(path.join(root, 'real/folder'), path.join(root, 'mixed/linkdir'));
  symlinkSync(path.join(root, 'real/nowhere.py'), path.join(root, 'mixed/dangling.py'));

  it('orders names by code point and takes .py exactly, files first, then subfolders, links as what they point to', () => {
    assert.deepEqual(
      discoverDir(root, 'mixed').modules.map((m) => m.module),
      ['B', 'a', 'b', 'link', 'Zsub.z', 'asub.y', 'linkdir.inner'],
      'upper.PY cannot be imported, .git is hidden, a dangling link is nothing',
    );
  });

  it("puts a single script's folder on the path, and a folder itself", () => {
    assert.equal(discoverDir(root, 'real/linked.py').folder, path.join(root, 'real'));
    assert.equal(discoverDir(root, 'real').folder, path.join(root, 'real'));
  });
});
