import path from 'node:path';
import { App } from '../app.js';
import { loadConfig, type Config } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import { badIntervalMessage } from '../inputs/running-input.js';
import { silentLogger } from '../logger.js';
import { PLUGINS } from '../plugins.js';
import { CONFIG_OPTION, defineCommand } from './command-line.js';
import { trialConfig } from './trial-config.js';

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check a config, and load its collector scripts the way `run` would, without running them',
  usage: ['[--config FILE] [--no-load]'],
  maxPositionals: 0,
  options: {
    config: CONFIG_OPTION,
    'no-load': { type: 'boolean', help: 'check the config and find its scripts, without importing them' },
  },
  details: `
Reads the config (every problem with its file, line and key), finds each
input's scripts, then imports them and creates each collector once, in the
executor, image and mode the config would use: a script that cannot load is
reported as FILE:LINE: error. No collector runs and no output is written.

Exit 0 when the config is valid and every script loads, 1 otherwise.`,
  run: async ({ values }) => validate(loadConfig(values.config, PLUGINS), !values['no-load']),
});

/** A problem or warning, said as compilers say them: where, then what. */
interface Finding {
  where: string;
  message: string;
}

async function validate(config: Config, load: boolean): Promise<number> {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  let executor = config.runner.executor;
  // What each input's line says: the scripts found, then (once loaded) the collectors in them.
  const inputLines = new Map(
    config.inputs.map((input) => {
      const modules = input.discovered.flatMap((dir) => dir.modules.map((m) => `${m.module} (${displayPath(m.file)})`));
      return [input.name, `${modules.length} script(s): ${modules.join(', ')}`];
    }),
  );

  if (load) {
    // Started as `run` would start them, but with no outputs and no schedule: each host imports its scripts, says hello, and stops.
    const app = new App(trialConfig(config, config.inputs, `validate ${path.resolve(config.source)}`), { log: silentLogger, outputs: {} });
    try {
      await app.start({ schedule: false });
      executor = `${executor}${executor === app.runtimeKind ? '' : ` (${app.runtimeKind} here)`}`;
      for (const input of app.inputs) {
        const status = input.status();
        if (status.state !== 'running')
          problems.push({ where: config.source, message: `input ${input.name} (${input.config.key}) cannot start: ${status.error}` });
        for (const failed of status.loadErrors) {
          problems.push({
            where: failed.line ? `${failed.file}:${failed.line}` : failed.file,
            message: `input ${input.name} cannot load ${failed.module}: ${failed.error}`,
          });
        }
        for (const collector of input.collectors) {
          const problem = badIntervalMessage(collector, input.config.interval);
          if (problem) warnings.push({ where: collector.file, message: `input ${input.name}: ${problem}` });
        }
        const scripts = input.config.discovered.reduce((n, dir) => n + dir.modules.length, 0);
        const collectors = input.collectors.map((c) => `${c.id} every ${c.interval} s`);
        inputLines.set(input.name, `${scripts} script(s), ${collectors.length} collector(s): ${collectors.join(', ') || 'none'}`);
      }
    } catch (err) {
      problems.push({ where: config.source, message: `cannot load the collectors: ${errorMessage(err)} (--no-load checks the config alone)` });
    } finally {
      await app.stop();
    }
  }

  const verdict =
    problems.length > 0
      ? `is valid, but ${problems.length} problem(s) keep its collectors from loading`
      : load
        ? 'is valid and its collectors load'
        : 'is valid (scripts found, not loaded: --no-load)';
  const out = [`config ${config.source} ${verdict}`];
  out.push(`  executor ${executor}, concurrency ${config.runner.concurrency}, listen ${config.runner.listen}, python_d ${displayPath(config.runner.python_d)}`);
  for (const input of config.inputs) out.push(`  input ${input.name} (${input.mode}): ${inputLines.get(input.name)}`);
  for (const output of config.outputs) {
    const target =
      'path' in output.options ? ` ${displayPath(path.resolve(String(output.options.path)))}` : 'url' in output.options ? ` ${output.options.url}` : '';
    out.push(`  output ${output.id}${target}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  for (const { where, message } of warnings) process.stderr.write(`${where}: warning: ${message}\n`);
  for (const { where, message } of problems) process.stderr.write(`${where}: ${message}\n`);
  return problems.length > 0 ? 1 : 0;
}
