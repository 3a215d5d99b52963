import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isPythondError } from '../../src/errors.js';
import { instanceId } from '../../src/instance-id.js';
import { tempTree } from '../helpers/fixtures.js';

describe('instanceId', () => {
  it('is made on first use and kept in <data_dir>/instance-id, so a restarted runner finds its leftovers', () => {
    const dataDir = path.join(tempTree(), 'data');
    const id = instanceId(dataDir);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(readFileSync(path.join(dataDir, 'instance-id'), 'utf8').trim(), id);
    assert.equal(instanceId(dataDir), id);
  });

  it('does not come from the path: a data_dir at the same path with other contents is another instance', () => {
    // Two compose projects' runners both have data_dir /var/lib/pythond, on different volumes.
    const dataDir = tempTree();
    const first = instanceId(dataDir);
    writeFileSync(path.join(dataDir, 'instance-id'), 'other\n');
    assert.equal(instanceId(dataDir), 'other');
    assert.notEqual(instanceId(tempTree()), first);
  });

  it('names the file when data_dir cannot be written', () => {
    const root = tempTree({ 'not-a-dir': '' });
    assert.throws(
      () => instanceId(path.join(root, 'not-a-dir', 'data')),
      (err) => isPythondError(err, 'DATA_DIR_UNWRITABLE') && /not-a-dir\/data\/instance-id \(runner\.data_dir must be writable\)/.test(err.message),
    );
  });
});
