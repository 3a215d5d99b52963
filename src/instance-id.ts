import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PythondError, errorMessage } from './errors.js';

const INSTANCE_FILE = 'instance-id';

/**
 * The id of the installation whose state is in `dataDir`: made at random on
 * first start and kept in `<data_dir>/instance-id`. Not derived from the
 * path: runners in containers all have the same data_dir path (every compose
 * project's runner has /var/lib/pythond), and one of them starting must not
 * take the others' containers for its leftovers. Kept with the data, it
 * survives the runner's container being recreated.
 */
export function instanceId(dataDir: string): string {
  const file = path.join(dataDir, INSTANCE_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw instanceFileError(file, err);
  }
  const id = randomBytes(8).toString('hex');
  try {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${id}\n`, { flag: 'wx' });
  } catch (err) {
    // Another runner on the same data_dir wrote it first: share its id.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw instanceFileError(file, err);
  }
  return id;
}

function instanceFileError(file: string, err: unknown): PythondError {
  return new PythondError('DATA_DIR_UNWRITABLE', `cannot keep this runner's instance id in ${file} (runner.data_dir must be writable): ${errorMessage(err)}`, {
    cause: err,
  });
}
