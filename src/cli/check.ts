import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../config/load.js';
import { errorMessage } from '../errors.js';
import { selectExecutor } from '../executors/select-executor.js';
import { createRunningInput } from '../inputs/create-input.js';
import { createLogger } from '../logger.js';
import { DirectOutput } from '../outputs/direct-output.js';
import { OutputSet } from '../outputs/running-output.js';
import { StdoutOutput } from '../outputs/stdout/stdout-output.js';
import { PointPipeline } from '../points/pipeline.js';
import { createMetrics } from '../telemetry/metrics.js';
import { VERSION } from '../version.js';

export interface CheckOptions {
  dir: string;
  executor: 'auto' | 'docker' | 'process';
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
    '[[inputs.pythond]]',
    `name = ${JSON.stringify(path.basename(dir))}`,
    `dirs = [${JSON.stringify(path.basename(dir))}]`,
    'mode = "fresh"',
    '[[outputs.stdout]]',
  ].join('\n');
  const config = parseConfig(toml, `check ${options.dir}`, process.cwd());
  const input = config.inputs[0]!;
  const log = createLogger('info', 'console');
  const metrics = createMetrics(VERSION);
  const outputs = new OutputSet([new DirectOutput('stdout', new StdoutOutput(), metrics, log)]);
  const pipeline = new PointPipeline({ workers: 1, encodings: outputs.encodings });
  const executor = await selectExecutor(config, log, metrics);
  const runner = createRunningInput({ input, launcher: executor.launcherFor(input), pipeline, outputs, metrics, log });

  let failed = 0;
  try {
    const collectors = await runner.start();
    failed += runner.loadErrors.length;
    const chosen = collectors.filter((c) => !options.collector || c.id === options.collector || c.name === options.collector);
    if (options.collector && chosen.length === 0) {
      process.stderr.write(`no collector ${JSON.stringify(options.collector)} in ${options.dir}; found: ${collectors.map((c) => `${c.id} (name ${c.name})`).join(', ') || 'none'}\n`);
      failed++;
    }
    for (const collector of chosen) {
      const outcome = await runner.tick(collector);
      const summary = `${collector.id}: ${outcome.status}, ${outcome.points} point(s) in ${outcome.durationMs.toFixed(1)} ms (${executor.kind} executor)`;
      process.stderr.write(outcome.status === 'ok' ? `${summary}\n` : `${summary}: ${outcome.error}\n`);
      if (outcome.status !== 'ok') failed++;
    }
  } catch (err) {
    process.stderr.write(`cannot start the collectors of ${options.dir}: ${errorMessage(err)}\n`);
    failed++;
  } finally {
    await runner.close(5_000);
    await pipeline.close();
    await outputs.close(0);
  }
  return failed === 0 ? 0 : 1;
}
