import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { App } from '../app.js';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { PLUGINS } from '../plugins.js';

export interface CheckOptions {
  dir: string;
  executor: string;
  collector?: string;
  image?: string;
}

/**
 * `pythond check <dir>`: runs every collector of one python.d folder once and
 * prints its points as JSON Lines on stdout (the file output's format);
 * what went wrong goes to stderr, and the exit code is 1 if anything failed.
 */
export async function checkCommand(options: CheckOptions): Promise<number> {
  const dir = path.resolve(options.dir);
  // Only the instance id goes there (see instanceId): not beside the collectors,
  // whose folder may be read-only; one per user and folder, so a check that
  // crashed has its containers removed by the next check of the same folder.
  const dataDir = path.join(os.tmpdir(), `pythond-check-${process.getuid?.() ?? 0}-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  // The same validation as a config file: a missing folder or a bad option reads the same way.
  const toml = [
    '[runner]',
    `python_d = ${JSON.stringify(path.dirname(dir))}`,
    `executor = ${JSON.stringify(options.executor)}`,
    ...(options.image ? [`image = ${JSON.stringify(options.image)}`] : []),
    `data_dir = ${JSON.stringify(dataDir)}`,
    'workers = 1',
    '[[inputs.pythond]]',
    `name = ${JSON.stringify(path.basename(dir))}`,
    `dirs = [${JSON.stringify(path.basename(dir))}]`,
    'mode = "fresh"',
    '[[outputs.stdout]]',
  ].join('\n');
  const config = parseConfig(toml, `check ${options.dir}`, process.cwd(), PLUGINS);
  const app = new App(config, { log: createLogger('info', 'console') });

  let failed = 0;
  try {
    await app.start({ schedule: false });
    const input = app.inputs[0]!;
    const { state, error, loadErrors } = input.status();
    // Scripts that failed to load are counted below; a host that cannot start at all ends the check.
    if (state === 'failed' && loadErrors.length === 0) throw new Error(error);
    failed += loadErrors.length;
    const collectors = input.collectors;
    const chosen = collectors.filter((c) => !options.collector || c.id === options.collector || c.name === options.collector);
    if (options.collector && chosen.length === 0) {
      process.stderr.write(
        `no collector ${JSON.stringify(options.collector)} in ${options.dir}; found: ${collectors.map((c) => `${c.id} (name ${c.name})`).join(', ') || 'none'}\n`,
      );
      failed++;
    }
    for (const collector of chosen) {
      const outcome = await input.tick(collector);
      const summary = `${collector.id}: ${outcome.status}, ${outcome.points} point(s) in ${outcome.durationMs.toFixed(1)} ms (${app.runtimeKind} executor)`;
      process.stderr.write(outcome.status === 'ok' ? `${summary}\n` : `${summary}: ${outcome.error}\n`);
      if (outcome.status !== 'ok') failed++;
    }
  } catch (err) {
    process.stderr.write(`cannot start the collectors of ${options.dir}: ${(err as Error).message}\n`);
    failed++;
  } finally {
    await app.stop();
  }
  return failed === 0 ? 0 : 1;
}
