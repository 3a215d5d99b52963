import assert from 'node:assert/strict';
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
    assert.deepEqual(discoverDir(pythonD, 'single.py').modules.map((m) => m.module), ['single']);
  });

  it('reads absolute entries as they are', () => {
    assert.equal(discoverDir('/nowhere', path.join(pythonD, 'pkg')).modules.length, 2);
  });

  it('says so when a folder does not exist or holds no script', () => {
    assert.throws(() => discoverDir(pythonD, 'missing'), (err) => err instanceof DiscoveryProblem && /folder .*python\.d\/missing does not exist/.test(err.message));
    assert.throws(() => discoverDir(pythonD, 'empty'), /has no collector scripts \(\*\.py, not __init__\.py\)/);
  });
});
