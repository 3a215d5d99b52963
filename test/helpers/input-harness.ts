import { after } from 'node:test';
import { App } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { RunningInput } from '../../src/inputs/running-input.js';
import type { TickOutcome } from '../../src/inputs/tick-outcome.js';
import { silentLogger, type Logger } from '../../src/telemetry/logger.js';
import type { Output } from '../../src/outputs/output.js';
import type { EncodedBatch } from '../../src/points/point.js';
import { PLUGINS } from '../../src/plugins.js';
import type { Clock } from '../../src/scheduler/clock.js';
import type { Metrics } from '../../src/telemetry/metrics.js';
import { tempTree } from './fixtures.js';

/** Keeps what it is given: the edge where tests look at the points. */
export class MemoryOutput implements Output {
  readonly encoding = 'jsonl' as const;
  readonly points: { category: string; measurement: string; tags: Record<string, string>; fields: Record<string, unknown>; time: number }[] = [];

  async write(batch: EncodedBatch): Promise<void> {
    for (const line of Buffer.from(batch.jsonl!).toString('utf8').trim().split('\n')) this.points.push(JSON.parse(line));
  }
}

export interface InputHarness {
  app: App;
  input: RunningInput;
  output: MemoryOutput;
  metrics: Metrics;
  tick(collectorId: string): Promise<TickOutcome>;
}

/**
 * One input over a temporary python.d holding `files` (under `collectors/`),
 * in an App on the real runtime chosen by `executor`, started and stopped
 * after the test file. Without `schedule` or `clock` no collector ticks by
 * itself (the test ticks); with either the App's scheduler ticks them, as in
 * `pythond run`, on `clock` when given. `runnerToml` and `inputToml` add keys
 * to its [runner] and [[inputs.pythond]] blocks.
 */
export async function startInput(options: {
  executor: 'process' | 'docker';
  files: Record<string, string>;
  runnerToml?: string;
  inputToml?: string;
  schedule?: boolean;
  clock?: Clock;
  log?: Logger;
}): Promise<InputHarness> {
  const files = Object.fromEntries(Object.entries(options.files).map(([name, content]) => [`python.d/collectors/${name}`, content]));
  const root = tempTree(files);
  const toml = [
    '[runner]',
    `executor = "${options.executor}"`,
    'workers = 1',
    options.runnerToml ?? '',
    '[[inputs.pythond]]',
    'name = "test"',
    'dirs = ["collectors"]',
    options.inputToml ?? '',
    '[[outputs.stdout]]',
  ];
  const config = parseConfig(toml.join('\n'), 'test.toml', root, PLUGINS);
  const output = new MemoryOutput();
  const app = new App(config, { log: options.log ?? silentLogger, outputs: { memory: output }, clock: options.clock });
  after(() => app.stop());
  await app.start({ schedule: options.schedule ?? options.clock !== undefined });
  const input = app.inputs[0]!;
  return {
    app,
    input,
    output,
    metrics: app.metrics,
    tick: (collectorId) => {
      const collector = input.collectors.find((c) => c.id === collectorId);
      if (!collector) throw new Error(`no collector ${collectorId}; have ${input.collectors.map((c) => c.id).join(', ')}`);
      return input.tick(collector);
    },
  };
}

/** The values of a metric's samples carrying `labels` (whatever their other labels). */
async function sampleValues(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number[]> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l)).map((v) => v.value);
}

/** The sum of a metric's samples carrying `labels` (whatever their other labels). */
export async function metricTotal(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  return (await sampleValues(metrics, name, labels)).reduce((sum, value) => sum + value, 0);
}

/** The value of one sample of a counter or gauge, 0 when absent. */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  return (await sampleValues(metrics, name, labels))[0] ?? 0;
}
