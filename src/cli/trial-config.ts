import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ConfigSource } from '../reload/reloader.js';
import { loadConfig, type Config, type ConfigLocation } from '../config/load.js';
import { PLUGINS } from '../plugins.js';

/**
 * A folder of this user's for the state of a one-off run (`check`,
 * `validate`) named by `key`: the instance id, so that such a run, on a
 * machine where `pythond run` runs the same config, never takes the runner's
 * containers for its own leftovers; and clones of the config's git
 * repositories. One per key, so that a check that crashed has its containers
 * removed by the next check of the same key, and repositories are fetched,
 * not cloned again.
 */
export function trialDataDir(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `pythond-check-${process.getuid?.() ?? 0}-${hash}`);
}

/**
 * `config` (read from `location`) as `pythond run` reads it, git repositories'
 * inputs included once the app has pulled them, but with its state in a
 * trial folder, no outputs of its own, and only the input named `only` when
 * given.
 */
export function trialSource(config: Config, location: ConfigLocation, key: string, only?: string): { config: Config; source: ConfigSource } {
  const trial = (config: Config): Config => {
    const kept = (name: string | undefined): boolean => only === undefined || name === only;
    return {
      ...config,
      runner: { ...config.runner, data_dir: trialDataDir(key) },
      inputs: config.inputs.filter((input) => kept(input.name)),
      problems: config.problems.filter((problem) => kept(problem.input)),
      outputs: [],
    };
  };
  return { config: trial(config), source: { load: (checkouts) => trial(loadConfig(location, PLUGINS, checkouts)) } };
}
