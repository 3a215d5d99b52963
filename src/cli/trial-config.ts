import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Config, InputConfig } from '../config/load.js';

/**
 * A folder of this user's for the state of a one-off run (`check`,
 * `validate`) named by `key`. Only the instance id goes there, so that such a
 * run, on a machine where `pythond run` runs the same config, never takes the
 * runner's containers for its own leftovers; one per key, so that a check
 * that crashed has its containers removed by the next check of the same key.
 */
export function trialDataDir(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `pythond-check-${process.getuid?.() ?? 0}-${hash}`);
}

/** `config` as it runs in production, but only `inputs`, no outputs of its own, and its state in a trial folder. */
export function trialConfig(config: Config, inputs: readonly InputConfig[], key: string): Config {
  return { ...config, runner: { ...config.runner, data_dir: trialDataDir(key) }, inputs: [...inputs], outputs: [] };
}
