import { once } from 'node:events';
import { App } from '../app.js';
import { loadConfig } from '../config/load.js';
import { PLUGINS } from '../plugins.js';
import { startHttpApi, type HttpApi } from '../http/server.js';
import { createLogger } from '../logger.js';
import { VERSION } from '../version.js';

/**
 * `pythond run`: serves the HTTP API, runs the collectors until SIGINT or
 * SIGTERM, then stops cleanly (the API stops taking requests, ticks in flight
 * finish or time out, hosts stop, outputs flush) and exits 0.
 */
export async function runCommand(options: { config?: string }): Promise<number> {
  const config = loadConfig(options.config, PLUGINS);
  const log = createLogger(config.runner.log_level);
  log.info({ config: config.source }, `pythond ${VERSION} starting with ${config.source}`);

  // Signals are caught from here on: one that comes while starting still stops cleanly (outputs flush) once start is done.
  const signalled = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]).then(([name]) => name as string);
  // SIGHUP must never kill a long-running agent (node's default would).
  const hangUp = (): void => log.warn('SIGHUP received: pythond does not reload its config yet; restart it to apply changes (it keeps running)');
  process.on('SIGHUP', hangUp);
  const app = new App(config, { log });
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
  log.info({ executor: app.runtimeKind, inputs: config.inputs.length }, `running ${config.inputs.length} input(s) with the ${app.runtimeKind} executor`);

  const signal = await signalled;
  log.info(`${signal} received: finishing ticks in flight (at most ${config.runner.shutdown_timeout / 1000} s), then stopping`);
  const forceExit = (): never => {
    log.error('second signal: exiting without waiting');
    process.exit(1);
  };
  process.once('SIGINT', forceExit).once('SIGTERM', forceExit);
  await api.close();
  await app.stop();
  log.info('stopped');
  return 0;
}
