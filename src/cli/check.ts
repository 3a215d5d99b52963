import path from 'node:path';
import { App } from '../app.js';
import { loadConfig, type Config } from '../config/load.js';
import { inputSchema, runnerSchema } from '../config/schema.js';
import { discoverDir, DiscoveryProblem } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../logger.js';
import { StdoutOutput } from '../outputs/stdout/stdout-output.js';
import { PLUGINS } from '../plugins.js';
import { readTable, type Issue } from '../schema/fields.js';
import { CONFIG_OPTION, defineCommand, UsageError } from './command-line.js';
import { trialConfig, trialDataDir } from './trial-config.js';

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'run collectors once, now: points as JSON Lines on stdout, problems and timings on stderr',
  usage: ['DIR [--executor auto|docker|process] [--image IMAGE] [--collector ID]', '--input NAME [--config FILE] [--collector ID]'],
  maxPositionals: 1,
  options: {
    config: CONFIG_OPTION,
    input: { type: 'string', value: 'NAME', help: 'run this [[inputs.pythond]] of the config, exactly as `pythond run` would' },
    collector: { type: 'string', value: 'ID', help: 'only this collector: its id (module.Class) or its name' },
    executor: { type: 'string', value: 'EXECUTOR', choices: ['auto', ...PLUGINS.runtimes], help: 'check DIR only: where to run it (default auto)' },
    image: { type: 'string', value: 'IMAGE', help: 'check DIR only: the collector image (default pythond-python:3)' },
  },
  details: `
check DIR runs the collectors of one folder (a python.d/<name> folder) each in a
fresh host, with the default limits.

check --input NAME runs one input of the config the way \`pythond run\` runs it:
its cmd, envs, tags, interval, timeout, limits, mode, image, network and mounts,
with the config's executor. Only its points go to stdout instead of the
config's outputs, and its state is kept apart from a runner of the same config.

Exit 0 when every collector loaded and ran without error, else 1.`,
  run: async ({ values, positionals }) => {
    const [dir] = positionals;
    if (values.input === undefined) {
      if (values.config !== undefined) throw new UsageError('--config needs --input NAME: the input of the config to check');
      if (dir === undefined) throw new UsageError('missing the folder to check (DIR), or --input NAME to check an input of the config');
      const config = folderConfig(dir, values.executor ?? 'auto', values.image);
      return config ? checkOnce(config, dir, values.collector) : 1;
    }
    if (dir !== undefined) throw new UsageError(`give a folder or --input NAME, not both (got ${JSON.stringify(dir)} and --input ${values.input})`);
    for (const option of ['executor', 'image'] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} is for check DIR; an input runs with its config's ${option}, as in production`);
    }
    const config = loadConfig(values.config, PLUGINS);
    const input = config.inputs.find((candidate) => candidate.name === values.input);
    if (!input) {
      throw new UsageError(`no input ${JSON.stringify(values.input)} in ${config.source}; its inputs: ${config.inputs.map((i) => i.name).join(', ')}`);
    }
    const key = `config ${path.resolve(config.source)} input ${input.name}`;
    return checkOnce(trialConfig(config, [input], key), `input ${input.name} of ${config.source}`, values.collector);
  },
});

/**
 * The config of `check DIR`: the folder as the one input, in fresh mode, with
 * every other key at its default. A folder that cannot be used is said as
 * such (on stderr; undefined), not as a problem of a config nobody wrote.
 */
function folderConfig(dir: string, executor: string, image: string | undefined): Config | undefined {
  const folder = path.resolve(dir);
  const pythonD = path.dirname(folder);
  let discovered: ReturnType<typeof discoverDir>;
  try {
    discovered = discoverDir(pythonD, path.basename(folder));
  } catch (err) {
    if (!(err instanceof DiscoveryProblem)) throw err;
    process.stderr.write(`pythond check: ${err.message}\n`);
    return undefined;
  }
  const issues: Issue[] = [];
  const runner = readTable(
    { executor, ...(image ? { image } : {}), python_d: pythonD, data_dir: trialDataDir(`folder ${folder}`) },
    runnerSchema(process.cwd(), PLUGINS.runtimes),
    'runner',
    issues,
  );
  const input = readTable({ name: path.basename(folder), dirs: [path.basename(folder)], mode: 'fresh' }, inputSchema(), 'input', issues);
  // Only --image can still be wrong here (blank): said as the option it is.
  if (issues.length > 0) throw new UsageError(issues.map((issue) => `${issue.path.replace(/^runner\./, '--')} ${issue.message}`).join('; '));
  return { source: `check ${dir}`, runner, inputs: [{ ...input, key: `check ${dir}`, discovered: [discovered] }], outputs: [] };
}

/** Starts the one input of `config` as a runner would, ticks each collector (or the one asked for) once, and says how it went. */
async function checkOnce(config: Config, what: string, only: string | undefined): Promise<number> {
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const input = config.inputs[0]!;
  const app = new App(config, { log: createLogger('info', 'pretty'), outputs: { stdout: new StdoutOutput() } });
  let failed = 0;
  try {
    const began = performance.now();
    await app.start({ schedule: false });
    const running = app.inputs[0]!;
    const { state, error, loadErrors } = running.status();
    if (state !== 'running') throw new Error(error);
    const image = app.runtimeKind === 'docker' ? `, image ${input.image ?? config.runner.image}` : '';
    say(
      `${what}: ${running.collectors.length} collector(s) loaded in ${milliseconds(performance.now() - began)} (${app.runtimeKind} executor, ${input.mode} mode${image})`,
    );
    failed += loadErrors.length;
    const chosen = running.collectors.filter((c) => only === undefined || c.id === only || c.name === only);
    if (only !== undefined && chosen.length === 0) {
      say(`no collector ${JSON.stringify(only)} in ${what}; found: ${running.collectors.map((c) => `${c.id} (name ${c.name})`).join(', ') || 'none'}`);
      failed++;
    }
    for (const collector of chosen) {
      const outcome = await running.tick(collector);
      const runTime = outcome.runMs === undefined ? '' : ` (run() ${milliseconds(outcome.runMs)})`;
      if (outcome.status === 'ok') {
        say(`${collector.id}: ok, ${outcome.points} point(s) in ${milliseconds(outcome.durationMs)}${runTime}`);
      } else {
        say(`${collector.id}: ${outcome.status} (${outcome.reason}) in ${milliseconds(outcome.durationMs)}${runTime}: ${outcome.error}`);
        failed++;
      }
    }
  } catch (err) {
    say(`cannot start the collectors of ${what}: ${errorMessage(err)}`);
    failed++;
  } finally {
    await app.stop();
  }
  return failed === 0 ? 0 : 1;
}

const milliseconds = (ms: number): string => `${ms.toFixed(1)} ms`;
