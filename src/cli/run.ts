import { App } from '../app.js';
import { loadConfig, type ConfigLocation } from '../config/load.js';
import { PLUGINS } from '../plugins.js';
import { startHttpApi, type HttpApi } from '../http/server.js';
import { createLogger, defaultLogFormat, LOG_FORMATS, type LogFormat } from '../telemetry/logger.js';
import { LifecycleEvents } from '../telemetry/events/lifecycle-events.js';
import { VERSION } from '../version.js';
import { CONF_D_OPTION, CONFIG_OPTION, defineCommand } from './command-line.js';
import { StopSignals } from './stop-signals.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run the collectors on their schedule until SIGINT or SIGTERM',
  usage: ['[--config FILE] [--conf-d DIR] [--log-format pretty|json]'],
  maxPositionals: 0,
  options: {
    config: CONFIG_OPTION,
    'conf-d': CONF_D_OPTION,
    'log-format': {
      type: 'string',
      value: 'FORMAT',
      choices: LOG_FORMATS,
      help: 'pretty or json (default: [runner] log_format, else pretty on a terminal and json otherwise)',
    },
  },
  details: `
Serves the HTTP API on [runner] listen (/metrics, /v1/write, /v1/collectors, /healthz).
SIGHUP, POST /v1/reload, or a change of the config file, of conf.d or of the inputs' folders
reload the config: only what changed restarts. On SIGINT or SIGTERM, ticks in
flight finish (at most [runner] shutdown_timeout), outputs flush, and it exits 0;
a second signal, a second or more later, exits at once. Exit 1 when the config is invalid or the
collectors cannot start.`,
  run: ({ values }) => run({ file: values.config, confD: values['conf-d'] }, values['log-format'] as LogFormat | undefined),
});

/**
 * `pythond run`: serves the HTTP API, runs the collectors until SIGINT or
 * SIGTERM, then stops cleanly (the API stops taking requests, ticks in flight
 * finish or time out, hosts stop, outputs flush) and exits 0.
 */
async function run(location: ConfigLocation, logFormat: LogFormat | undefined): Promise<number> {
  const config = loadConfig(location, PLUGINS);
  const log = createLogger(config.runner.log_level, logFormat ?? config.runner.log_format ?? defaultLogFormat());
  log.info({ config: config.source, pid: process.pid }, `pythond ${VERSION} starting with ${config.source} (pid ${process.pid})`);

  // Signals are caught from here on: one that comes while starting still stops cleanly (outputs flush) once start is done.
  const events = new LifecycleEvents(log);
  const signals = new StopSignals({
    exitNow: () => {
      events.forcedExit();
      process.exit(1);
    },
  }).listen();
  const app = new App(config, { log, source: { load: (checkouts) => loadConfig(location, PLUGINS, checkouts) }, watch: true });
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

  const signal = await signals.stopping;
  events.stopRequested(signal, app.config.runner.shutdown_timeout);
  await api.close();
  await app.stop();
  log.info('stopped');
  return 0;
}
