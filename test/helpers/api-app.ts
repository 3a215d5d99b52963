import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { startHttpApi, type HttpApi } from '../../src/http/server.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { dedent, tempTree } from './fixtures.js';
import { PLUGINS } from '../../src/plugins.js';

/** A collector that never ticks during a test: the config needs one input, write tests need none. */
export const IDLE_COLLECTOR = `
  from datakit_framework import DataKitFramework

  class Idle(DataKitFramework):
      name = 'Idle'
      interval = 3600

      def run(self):
          pass
`;

/** A point as the file output wrote it, with its nanosecond time exact. */
export interface WrittenPoint {
  category: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  time: bigint;
}

export interface ApiApp {
  app: App;
  api: HttpApi;
  /** `http://127.0.0.1:<port>` */
  url: string;
  root: string;
  /** Every point in the file output so far. */
  points(): WrittenPoint[];
  stop(): Promise<void>;
}

/**
 * An App with the process executor, a file output and its HTTP API on a free
 * loopback port, over a temp tree. `files` go under the tree (collectors
 * under `python.d/<dir>/`); `dirs` are the input's; `runner` is extra
 * [runner] TOML, `tables` more tables after it ([global_host_tags], say).
 * Without files the input is one idle collector.
 */
export async function startApiApp(
  options: { files?: Record<string, string>; dirs?: string[]; runner?: string; tables?: string; start?: boolean } = {},
): Promise<ApiApp> {
  const root = tempTree(options.files ?? { 'python.d/idle/idle.py': IDLE_COLLECTOR });
  const pointsFile = path.join(root, 'data', 'points.jsonl');
  const toml = dedent(`
    [runner]
    executor = "process"
    listen = "127.0.0.1:0"
    workers = 1
    python_d = "python.d"
    ${options.runner ?? ''}
    ${options.tables ?? ''}

    [[inputs.pythond]]
    name = "test"
    dirs = ${JSON.stringify(options.dirs ?? ['idle'])}

    [[outputs.file]]
    path = "data/points.jsonl"
  `);
  const config = parseConfig(toml, 'test config', root, PLUGINS);
  const app = new App(config, { log: silentLogger });
  const api = await startHttpApi(app, {
    listen: config.runner.listen,
    apiToken: config.runner.api_token,
    maxBodySize: config.runner.max_body_size,
    log: silentLogger,
  });
  if (options.start ?? true) await app.start();
  return {
    app,
    api,
    url: api.url,
    root,
    points: () => (existsSync(pointsFile) ? readPoints(readFileSync(pointsFile, 'utf8')) : []),
    stop: async () => {
      await api.close();
      await app.stop();
    },
  };
}

/** JSON Lines of the file output; `time` is read from the text, as JSON.parse would round it. */
export function readPoints(text: string): WrittenPoint[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const point = JSON.parse(line) as WrittenPoint;
      return { ...point, time: BigInt(/"time":(-?\d+)\}$/.exec(line)![1]!) };
    });
}
