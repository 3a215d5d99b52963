import path from 'node:path';
import { App } from '../app.js';
import { loadConfig, type Config, type ConfigLocation, type InputConfig } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import { badIntervalMessage } from '../inputs/loaded-collectors.js';
import { silentLogger } from '../telemetry/logger.js';
import { PLUGINS } from '../plugins.js';
import { CONF_D_OPTION, CONFIG_OPTION, defineCommand } from './command-line.js';
import { trialSource } from './trial-config.js';
import { inputReports } from '../http/views.js';

export const validateCommand = defineCommand({
  name: 'validate',
  summary: 'check a config, and load its collector scripts the way `run` would, without running them',
  usage: ['[--config FILE] [--conf-d DIR] [--no-load]'],
  maxPositionals: 0,
  options: {
    config: CONFIG_OPTION,
    'conf-d': CONF_D_OPTION,
    'no-load': { type: 'boolean', help: 'check the config and find its scripts, without importing them' },
  },
  details: `
Reads the config (every problem with its file, line and key), finds each
input's scripts, then imports them and creates each collector once, in the
executor, image and mode the config would use: a script that cannot load is
reported as FILE:LINE: error. No collector runs and no output is written.

Exit 0 when the config is valid and every script loads, 1 otherwise.`,
  run: async ({ values }) => {
    const location = { file: values.config, confD: values['conf-d'] };
    return validate(loadConfig(location, PLUGINS), location, !values['no-load']);
  },
});

/** A problem or warning, said as compilers say them: where, then what. */
interface Finding {
  where: string;
  message: string;
}

async function validate(config: Config, location: ConfigLocation, load: boolean): Promise<number> {
  const problems: Finding[] = [];
  const warnings: Finding[] = [];
  let executor = config.runner.executor;
  let inputs = config.inputs;
  // What each input's line says: the scripts found, then (once loaded) the collectors in them.
  const inputLines = new Map(
    inputs.map((input) => {
      const modules = input.discovered.flatMap((dir) => dir.modules.map((m) => `${m.module} (${displayPath(m.file)})`));
      return [input.name, `${modules.length} script(s): ${modules.join(', ')}`];
    }),
  );

  if (load) {
    // Started as `run` would start them (git repositories pulled), but with no outputs and no schedule: each host imports its scripts, says hello, and stops.
    const trial = trialSource(config, location, `validate ${path.resolve(config.source)}`);
    const app = new App(trial.config, { log: silentLogger, outputs: {}, source: trial.source });
    try {
      await app.start({ schedule: false });
      inputs = app.config.inputs;
      executor = `${executor}${executor === app.runtimeKind ? '' : ` (${app.runtimeKind} here)`}`;
      for (const status of inputReports(app)) {
        if (status.state === 'failed' && status.loadErrors.length === 0) {
          problems.push({ where: config.source, message: `input ${status.input} cannot start: ${status.error}` });
        }
        const input = inputs.find((candidate) => candidate.name === status.input);
        for (const failed of status.loadErrors) {
          const file = whereIs(input, failed.module, failed.file);
          problems.push({
            where: failed.line ? `${file}:${failed.line}` : file,
            message: `input ${status.input} cannot load ${failed.module}: ${failed.error}`,
          });
        }
      }
      for (const input of app.inputs) {
        for (const collector of input.collectors) {
          const problem = badIntervalMessage(collector, input.config.interval);
          if (problem) warnings.push({ where: whereIs(input.config, collector.module, collector.file), message: `input ${input.name}: ${problem}` });
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
  } else {
    // Inputs whose dirs are in git repositories, which --no-load does not pull.
    for (const problem of config.problems) warnings.push({ where: config.source, message: `input ${problem.input ?? '(unnamed)'}: ${problem.message}` });
  }

  const verdict =
    problems.length > 0
      ? `is valid, but ${problems.length} problem(s) keep its collectors from loading`
      : load
        ? 'is valid and its collectors load'
        : 'is valid (scripts found, not loaded: --no-load)';
  const out = [`config ${config.source} ${verdict}`];
  out.push(`  executor ${executor}, concurrency ${config.runner.concurrency}, listen ${config.runner.listen}, python_d ${displayPath(config.runner.python_d)}`);
  for (const input of inputs) out.push(`  input ${input.name} (${input.mode}): ${inputLines.get(input.name) ?? 'not loaded'}`);
  if (config.skippedFiles.length > 0) out.push(`  conf.d files with no [[inputs.pythond]], left alone: ${config.skippedFiles.join(', ')}`);
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

/** Where a module of `input` is, as the user opens it (relative to the working directory when inside it); `shown` when it is not one of the input's. */
function whereIs(input: InputConfig | undefined, module: string, shown: string): string {
  const file = input?.discovered.flatMap((dir) => dir.modules).find((m) => m.module === module)?.file;
  return file ? displayPath(file) : shown;
}
