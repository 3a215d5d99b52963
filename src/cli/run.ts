import path from 'node:path';
import { App } from '../app.js';
import { EMBEDDED_SOURCE, loadConfig, type Config } from '../config/load.js';
import { displayPath } from '../discovery/discover.js';
import { PLUGINS } from '../plugins.js';
import { startHttpApi, type HttpApi } from '../http/server.js';
import { createLogger, defaultLogFormat, LOG_FORMATS, type LogFormat } from '../telemetry/logger.js';
import { ChangeWatcher, type Watched } from '../reload/watcher.js';
import { ReloadEvents } from '../telemetry/events/reload-events.js';
import { VERSION } from '../version.js';
import { CONFIG_OPTION, defineCommand } from './command-line.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run the collectors on their schedule until SIGINT or SIGTERM',
  usage: ['[--config FILE] [--log-format pretty|json]'],
  maxPositionals: 0,
  options: {
    config: CONFIG_OPTION,
    'log-format': {
      type: 'string',
      value: 'FORMAT',
      choices: LOG_FORMATS,
      help: 'pretty or json (default: [runner] log_format, else pretty on a terminal and json otherwise)',
    },
  },
  details: `
Serves the HTTP API on [runner] listen (/metrics, /v1/write, /v1/collectors, /healthz).
SIGHUP, POST /v1/reload, or a change of the config file or of the inputs' folders
reload the config: only what changed restarts. On SIGINT or SIGTERM, ticks in
flight finish (at most [runner] shutdown_timeout), outputs flush, and it exits 0;
a second signal, a second or more later, exits at once. Exit 1 when the config is invalid or the
collectors cannot start.`,
  run: ({ values }) => run({ config: values.config, logFormat: values['log-format'] as LogFormat | undefined }),
});

/** How soon after the first a signal is taken as the same one, forwarded by npm. */
const SAME_SIGNAL_MS = 1_000;

/**
 * `pythond run`: serves the HTTP API, runs the collectors until SIGINT or
 * SIGTERM, then stops cleanly (the API stops taking requests, ticks in flight
 * finish or time out, hosts stop, outputs flush) and exits 0.
 */
async function run(options: { config?: string; logFormat?: LogFormat }): Promise<number> {
  const config = loadConfig(options.config, PLUGINS);
  const log = createLogger(config.runner.log_level, options.logFormat ?? config.runner.log_format ?? defaultLogFormat());
  log.info({ config: config.source, pid: process.pid }, `pythond ${VERSION} starting with ${config.source} (pid ${process.pid})`);

  // Signals are caught from here on: one that comes while starting still stops cleanly (outputs flush) once start is done.
  // One listener for the whole run: between a once() listener's removal and a new one, node's default (exit) would be back.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let stoppingAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stoppingAt === undefined) {
        stoppingAt = performance.now();
        resolve(signal);
        return;
      }
      // One Ctrl-C can arrive twice: from the terminal, to the whole process
      // group, and again from npm, which forwards it (`npm start`).
      if (performance.now() - stoppingAt < SAME_SIGNAL_MS) return;
      log.error('second signal: exiting without waiting');
      process.exit(1);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  const app = new App(config, { log, source: { load: (checkouts) => loadConfig(options.config, PLUGINS, checkouts) } });
  // Every trigger goes through the one reload path; SIGHUP must never kill a long-running agent (node's default would).
  const watcher = new ChangeWatcher({ changed: (what) => void reload(`${displayPath(what)} changed`), events: new ReloadEvents(log, app.metrics) });
  const reload = async (trigger: string): Promise<void> => {
    await app.reload(trigger);
    watcher.watch(watched(app.config));
  };
  process.on('SIGHUP', () => void reload('SIGHUP'));
  // Listen first: a taken address fails the run before any collector starts.
  let api: HttpApi;
  try {
    api = await startHttpApi(app, { listen: config.runner.listen, apiToken: config.runner.api_token, maxBodySize: config.runner.max_body_size, log });
  } catch (err) {
    await app.stop();
    throw err;
  }
  log.info({ url: api.url }, `HTTP API listening on ${api.url}${config.runner.api_token ? ' (writes need the api_token)' : ''}`);
  try {
    await app.start();
  } catch (err) {
    // The API would keep the process alive: a runner that cannot start must exit.
    await api.close();
    await app.stop();
    throw err;
  }
  log.info(
    { executor: app.runtimeKind, inputs: app.config.inputs.length },
    `running ${app.config.inputs.length} input(s) with the ${app.runtimeKind} executor`,
  );
  watcher.watch(watched(app.config));

  const signal = await signalled;
  log.info(`${signal} received: finishing ticks in flight (at most ${config.runner.shutdown_timeout / 1000} s), then stopping`);
  watcher.close();
  await api.close();
  await app.stop();
  log.info('stopped');
  return 0;
}

/**
 * What a change of reloads: the config file (not the embedded default) and
 * the folders of the inputs' scripts, except those of git repositories,
 * whose checkouts never change (a pull brings a new one).
 */
function watched(config: Config): Watched {
  const gitrepos = path.join(config.runner.data_dir, 'gitrepos') + path.sep;
  const dirs = config.inputs.flatMap((input) => input.discovered.map((dir) => dir.folder)).filter((dir) => !dir.startsWith(gitrepos));
  return { file: config.source === EMBEDDED_SOURCE ? undefined : path.resolve(config.source), dirs };
}
