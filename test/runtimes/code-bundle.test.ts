import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import tar from 'tar-stream';
import { discoverDir } from '../../src/discovery/discover.js';
import { buildCodeBundle } from '../../src/runtimes/docker/code-bundle.js';
import { tempTree } from '../helpers/fixtures.js';

/** Every entry of a tar archive: its name, type, mode and content. */
async function entries(archive: Buffer): Promise<Map<string, { type: string; mode: number; content: string }>> {
  const found = new Map<string, { type: string; mode: number; content: string }>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      found.set(header.name, { type: header.type ?? 'file', mode: header.mode ?? 0, content: Buffer.concat(chunks).toString() });
      next();
    });
  });
  const finished = new Promise((resolve, reject) => extract.on('finish', resolve).on('error', reject));
  Readable.from([archive]).pipe(extract);
  await finished;
  return found;
}

/** The bundle of the `dirs` entries under `root`/python.d, with the SDK from `root`/core, unpacked under /x. */
function bundle(root: string, ...dirs: string[]) {
  return buildCodeBundle(
    path.join(root, 'core'),
    '/x',
    dirs.map((entry) => discoverDir(path.join(root, 'python.d'), entry)),
    'inputs.pythond[3]',
  );
}

describe('code bundle', () => {
  it('packs the SDK under core/ and each dirs entry under dN/ (folders inside come with their files), and says where each module lands', async () => {
    const root = tempTree({
      'core/host.py': 'HOST = 1\n',
      'core/pythond_host/cli.py': 'CLI = 1\n',
      'python.d/first/a.py': 'A = 1\n',
      'python.d/first/pkg/b.py': 'B = 1\n',
      'python.d/first/helper.txt': 'data\n',
      'python.d/second/c.py': 'C = 1\n',
    });
    const pythonD = path.join(root, 'python.d');
    const dirs = [discoverDir(pythonD, 'first'), discoverDir(pythonD, 'second')];
    const bundle = await buildCodeBundle(path.join(root, 'core'), '/tmp/pythond', dirs, 'inputs.pythond[0]');

    const packed = await entries(bundle.tar);
    assert.deepEqual([...packed.keys()].sort(), [
      'core/host.py',
      'core/pythond_host/cli.py',
      'd0/',
      'd0/a.py',
      'd0/helper.txt',
      'd0/pkg/b.py',
      'd1/',
      'd1/c.py',
    ]);
    assert.equal(packed.get('d0/pkg/b.py')!.content, 'B = 1\n');
    assert.deepEqual([packed.get('d0/')!.type, packed.get('d0/')!.mode, packed.get('d0/a.py')!.mode], ['directory', 0o755, 0o644]);
    assert.deepEqual(bundle.dirs, [
      {
        folder: '/tmp/pythond/d0',
        modules: [
          { module: 'a', file: '/tmp/pythond/d0/a.py' },
          { module: 'pkg.b', file: '/tmp/pythond/d0/pkg/b.py' },
        ],
      },
      { folder: '/tmp/pythond/d1', modules: [{ module: 'c', file: '/tmp/pythond/d1/c.py' }] },
    ]);
  });

  it('packs only the named script of a dirs entry that is one file', async () => {
    const root = tempTree({ 'core/host.py': '', 'python.d/many/one.py': 'ONE = 1\n', 'python.d/many/other.py': 'OTHER = 1\n' });
    const bundled = await bundle(root, 'many/one.py');
    const packed = await entries(bundled.tar);
    assert.deepEqual([...packed.keys()].sort(), ['core/host.py', 'd0/', 'd0/one.py']);
    assert.deepEqual(bundled.dirs, [{ folder: '/x/d0', modules: [{ module: 'one', file: '/x/d0/one.py' }] }]);
  });

  it('leaves out hidden files, __pycache__ and compiled files, and follows symbolic links', async () => {
    const root = tempTree({
      'core/host.py': '',
      'core/pythond_host/__pycache__/cli.cpython-311.pyc': 'compiled',
      'python.d/c/a.py': 'A = 1\n',
      'python.d/c/.secret': 'hidden\n',
      'python.d/c/__pycache__/a.cpython-311.pyc': 'compiled',
      'python.d/c/stale.pyc': 'compiled',
      'elsewhere/shared.py': 'SHARED = 1\n',
    });
    symlinkSync(path.join(root, 'elsewhere/shared.py'), path.join(root, 'python.d/c/shared.py'));
    const packed = await entries((await bundle(root, 'c')).tar);
    assert.deepEqual([...packed.keys()].sort(), ['core/host.py', 'd0/', 'd0/a.py', 'd0/shared.py']);
    assert.equal(packed.get('d0/shared.py')!.content, 'SHARED = 1\n', 'the content the link points to');
  });

  it('keeps a path longer than a tar header holds', async () => {
    const deep = `${'long-folder-name-'.repeat(8)}x`;
    const root = tempTree({ 'core/host.py': '', [`python.d/c/${deep}/m.py`]: 'M = 1\n' });
    assert.equal((await entries((await bundle(root, 'c')).tar)).get(`d0/${deep}/m.py`)?.content, 'M = 1\n');
  });

  it('refuses code over 32 MiB, naming the input', async () => {
    const root = tempTree({ 'core/host.py': '', 'python.d/c/a.py': 'A = 1\n', 'python.d/c/big.bin': '' });
    writeFileSync(path.join(root, 'python.d/c/big.bin'), Buffer.alloc(32 * 1024 ** 2));
    await assert.rejects(bundle(root, 'c'), {
      code: 'HOST_START_FAILED',
      message: 'inputs.pythond[3]: the collector code to ship into the container is over 32 MiB; keep only scripts and small files in the dirs',
    });
  });
});
