import path from 'node:path';
import { App } from '../app.js';
import type { ConfigSource } from '../reload/reloader.js';
import { loadConfig, parseConfig, type Config } from '../config/load.js';
import { discoverDir, DiscoveryProblem } from '../discovery/discover.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../telemetry/logger.js';
import { StdoutOutput } from '../outputs/stdout/stdout-output.js';
import { PLUGINS } from '../plugins.js';
import { CONF_D_OPTION, CONFIG_OPTION, defineCommand, UsageError } from './command-line.js';
import { trialDataDir, trialSource } from './trial-config.js';
import { inputReports } from '../http/views.js';

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'run collectors once, now: points as JSON Lines on stdout, problems and timings on stderr',
  usage: ['DIR [--executor auto|docker|process] [--image IMAGE] [--collector ID]', '--input NAME [--config FILE] [--conf-d DIR] [--collector ID]'],
  maxPositionals: 1,
  options: {
    config: CONFIG_OPTION,
    'conf-d': CONF_D_OPTION,
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
      for (const option of ['config', 'conf-d'] as const) {
        if (values[option] !== undefined) throw new UsageError(`--${option} needs --input NAME: the input of the config to check`);
      }
      if (dir === undefined) throw new UsageError('missing the folder to check (DIR), or --input NAME to check an input of the config');
      const config = folderConfig(dir, values.executor ?? 'auto', values.image);
      return config ? checkOnce(config, undefined, dir, values.collector) : 1;
    }
    if (dir !== undefined) throw new UsageError(`give a folder or --input NAME, not both (got ${JSON.stringify(dir)} and --input ${values.input})`);
    for (const option of ['executor', 'image'] as const) {
      if (values[option] !== undefined) throw new UsageError(`--${option} is for check DIR; an input runs with its config's ${option}, as in production`);
    }
    const location = { file: values.config, confD: values['conf-d'] };
    const config = loadConfig(location, PLUGINS);
    const known = [...config.inputs.map((i) => i.name), ...config.problems.flatMap((p) => (p.input ? [p.input] : []))];
    // Inputs of git repositories are known only once they are pulled, which the check does as the runner would.
    if (!known.includes(values.input) && config.gitRepos.repos.length === 0) {
      throw new UsageError(`no input ${JSON.stringify(values.input)} in ${config.source}; its inputs: ${known.join(', ')}`);
    }
    const trial = trialSource(config, location, `config ${path.resolve(config.source)} input ${values.input}`, values.input);
    return checkOnce(trial.config, trial.source, `input ${values.input} of ${config.source}`, values.collector);
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
  try {
    discoverDir(pythonD, path.basename(folder));
  } catch (err) {
    if (!(err instanceof DiscoveryProblem)) throw err;
    process.stderr.write(`pythond check: ${err.message}\n`);
    return undefined;
  }
  // Read as any config is, so every default applies; nothing in it can be wrong now (the folder is there, the options were checked).
  const toml = [
    '[runner]',
    `executor = ${JSON.stringify(executor)}`,
    ...(image ? [`image = ${JSON.stringify(image)}`] : []),
    `python_d = ${JSON.stringify(pythonD)}`,
    `data_dir = ${JSON.stringify(trialDataDir(`folder ${folder}`))}`,
    '[[inputs.pythond]]',
    `name = ${JSON.stringify(path.basename(folder))}`,
    `dirs = [${JSON.stringify(path.basename(folder))}]`,
    'mode = "fresh"',
    '[[outputs.stdout]]', // a config needs one; check prints through its own
  ].join('\n');
  return parseConfig(toml, `check ${dir}`, process.cwd(), PLUGINS);
}

/**
 * Starts the one input of `config` as a runner would (its log readable on
 * stderr, the points on stdout instead of the config's outputs), ticks each
 * collector (or the one asked for) once, and says how it went. A reader of
 * stdout (or of stdout and stderr: `2>&1 | head`) that goes away ends it
 * early: the collectors not run yet are skipped, and it cleans up as always.
 */
async function checkOnce(config: Config, source: ConfigSource | undefined, what: string, only: string | undefined): Promise<number> {
  const stdout = new StdoutOutput();
  const app = new App(config, { log: createLogger('info', 'pretty'), outputs: { stdout }, source });
  // With `2>&1 | head` the reader that goes away holds stderr too: its EPIPE, unlistened, would end the process before it cleans up.
  let stderrClosed = false;
  process.stderr.on('error', () => (stderrClosed = true));
  const say = (line: string): void => void (stderrClosed || process.stderr.write(`${line}\n`));
  let stdoutClosed = false;
  void stdout.closed.then(() => (stdoutClosed = true));
  let failed = 0;
  try {
    const began = performance.now();
    await app.start({ schedule: false });
    const running = app.inputs[0];
    const input = app.config.inputs[0];
    // An input of the config that cannot be used (its dirs are in no repository, say) is in the status with why.
    if (!running || !input) throw new Error(inputReports(app)[0]?.error ?? `no such input in ${app.config.source} or its git repositories`);
    const { state, error, loadErrors } = running.status();
    // Scripts that failed to load are counted below; a host that cannot start at all ends the check.
    if (state === 'failed' && loadErrors.length === 0) throw new Error(error);
    // What its dependencies were built into, when it has any: the image the runner runs it in, found by its key (or built now).
    const built = running.status().image?.tag;
    const image = app.runtimeKind === 'docker' ? `, image ${built ?? input.image ?? app.config.runner.image}` : built ? `, virtual environment ${built}` : '';
    say(
      `${what}: ${running.collectors.length} collector(s) loaded in ${milliseconds(performance.now() - began)} (${app.runtimeKind} executor, ${input.mode} mode${image})`,
    );
    failed += loadErrors.length;
    const chosen = running.collectors.filter((c) => only === undefined || c.id === only || c.name === only);
    if (only !== undefined && chosen.length === 0) {
      say(`no collector ${JSON.stringify(only)} in ${what}; found: ${running.collectors.map((c) => `${c.id} (name ${c.name})`).join(', ') || 'none'}`);
      failed++;
    }
    for (const [i, collector] of chosen.entries()) {
      if (stdoutClosed || stderrClosed) {
        say(`standard output was closed by its reader: ${chosen.length - i} collector(s) not run`);
        break;
      }
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
