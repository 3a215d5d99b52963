import path from 'node:path';
import type { OutputCheckContext, OutputConfig } from '../config/load.js';
import type { Schema, TableOf } from '../schema/fields.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { BufferOptions, bufferSchema } from './buffer/buffer-options.js';
import { BufferedOutput } from './buffered-output.js';
import { checkDatakitOptions, DatakitOutput, datakitOutputSchema } from './datakit/datakit-output.js';
import { DirectOutput } from './direct-output.js';
import { FileOutput, fileOutputSchema } from './file/file-output.js';
import { checkInfluxdbOptions, InfluxdbOutput, influxdbOutputSchema } from './influxdb/influxdb-output.js';
import type { Output, OutputContext } from './output.js';
import type { RunningOutput } from './running-output.js';
import { StdoutOutput, stdoutOutputSchema } from './stdout/stdout-output.js';
import { checkPrometheusOptions, PrometheusOutput, prometheusOutputSchema } from './prometheus/prometheus-output.js';
import { checkRemoteWriteOptions, RemoteWriteOutput, remoteWriteOutputSchema } from './prometheus-remote-write/remote-write-output.js';
import { OutputEvents } from '../telemetry/events/output-events.js';

export interface OutputPlugin<S extends Schema> {
  /** The keys of one `[[outputs.<name>]]` table; relative paths are taken from `baseDir`. */
  schema(baseDir: string): S;
  /** Rules across keys (and against the runner's own `listen`), checked once every key has been read: `key` is the key to blame. */
  check?(options: TableOf<S>, runner: OutputCheckContext): { key: string; message: string }[];
  create(options: TableOf<S>, context: OutputContext): Output;
  /** Remote outputs run behind a disk buffer (their schema includes bufferSchema); local ones write inline. */
  buffered: boolean;
}

const local = <S extends Schema>(p: Omit<OutputPlugin<S>, 'buffered'>): OutputPlugin<S> => ({ ...p, buffered: false });
const remote = <S extends Schema & ReturnType<typeof bufferSchema>>(p: Omit<OutputPlugin<S>, 'buffered'>): OutputPlugin<S> => ({ ...p, buffered: true });

/** Every output pythond knows, by its name in `[[outputs.<name>]]`. */
export const OUTPUT_PLUGINS = {
  file: local({ schema: fileOutputSchema, create: (options) => new FileOutput(options) }),
  stdout: local({ schema: stdoutOutputSchema, create: () => new StdoutOutput() }),
  influxdb: remote({ schema: influxdbOutputSchema, check: checkInfluxdbOptions, create: (options) => new InfluxdbOutput(options) }),
  datakit: remote({ schema: datakitOutputSchema, check: checkDatakitOptions, create: (options, context) => new DatakitOutput(options, context) }),
  prometheus_remote_write: remote({ schema: remoteWriteOutputSchema, check: checkRemoteWriteOptions, create: (options) => new RemoteWriteOutput(options) }),
  prometheus: local({ schema: prometheusOutputSchema, check: checkPrometheusOptions, create: (options, context) => new PrometheusOutput(options, context) }),
};

/** `<data_dir>/buffer/influxdb-0` for `influxdb[0]`: no brackets, which shells would take for a glob. */
export function bufferDir(dataDir: string, id: string): string {
  return path.join(dataDir, 'buffer', id.replace(/\[(\d+)\]$/, '-$1'));
}

/** The output of one config block, inside the wrapper its kind needs. */
export function createRunningOutput(config: OutputConfig, context: OutputContext & { dataDir: string; metrics: Metrics; log: Logger }): RunningOutput {
  // The config was read against this registry: its type is a key, its options match the schema.
  const plugin = OUTPUT_PLUGINS[config.type as keyof typeof OUTPUT_PLUGINS] as OutputPlugin<Schema>;
  const output = plugin.create(config.options as TableOf<Schema>, {
    loopToken: context.loopToken,
    longestIntervalMs: context.longestIntervalMs,
    events: new OutputEvents(config.id, context.log.child({ output: config.id }), context.metrics),
  });
  if (!plugin.buffered) return new DirectOutput(config.id, output, context.metrics, context.log);
  const options = config.options as unknown as BufferOptions;
  const buffer = {
    dir: bufferDir(context.dataDir, config.id),
    batchSize: options.batch_size,
    flushIntervalMs: options.flush_interval,
    bufferBytes: options.buffer_size,
  };
  return new BufferedOutput(config.id, output, buffer, context.metrics, context.log);
}
