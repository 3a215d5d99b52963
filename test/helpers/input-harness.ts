import { after } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { selectExecutor } from '../../src/executors/select-executor.js';
import { createRunningInput } from '../../src/inputs/create-input.js';
import type { RunningInput, TickOutcome } from '../../src/inputs/running-input.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { Output } from '../../src/outputs/output.js';
import { DirectOutput } from '../../src/outputs/direct-output.js';
import { OutputSet } from '../../src/outputs/running-output.js';
import { PointPipeline } from '../../src/points/pipeline.js';
import type { EncodedBatch } from '../../src/points/point.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
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
  runner: RunningInput;
  output: MemoryOutput;
  metrics: Metrics;
  tick(collectorId: string): Promise<TickOutcome>;
}

/**
 * One input over a temporary python.d holding `files` (under `collectors/`),
 * with the real executor chosen by `executor`, started and closed after the test file.
 * `inputToml` adds keys to its [[inputs.pythond]] block.
 */
export async function startInput(options: {
  executor: 'process' | 'docker';
  files: Record<string, string>;
  inputToml?: string;
  log?: Logger;
}): Promise<InputHarness> {
  const files = Object.fromEntries(Object.entries(options.files).map(([name, content]) => [`python.d/collectors/${name}`, content]));
  const root = tempTree(files);
  const config = parseConfig(
    [
      '[runner]',
      `executor = "${options.executor}"`,
      '[[inputs.pythond]]',
      'name = "test"',
      'dirs = ["collectors"]',
      options.inputToml ?? '',
      '[[outputs.stdout]]',
    ].join('\n'),
    'test.toml',
    root,
  );
  const log = options.log ?? silentLogger;
  const metrics = createMetrics('test');
  const output = new MemoryOutput();
  const outputs = new OutputSet([new DirectOutput('memory', output, metrics, log)]);
  const pipeline = new PointPipeline({ workers: 1, encodings: ['jsonl'] });
  const choice = await selectExecutor(config, log, metrics);
  const input = config.inputs[0]!;
  const runner = createRunningInput({ input, launcher: choice.launcherFor(input), pipeline, outputs, metrics, log });
  after(async () => {
    await runner.close(2_000);
    await pipeline.close();
  });
  await runner.start();
  return {
    runner,
    output,
    metrics,
    tick: (collectorId) => {
      const collector = runner.collectors.find((c) => c.id === collectorId);
      if (!collector) throw new Error(`no collector ${collectorId}; have ${runner.collectors.map((c) => c.id).join(', ')}`);
      return runner.tick(collector);
    },
  };
}

/** The value of one sample of a counter or gauge, 0 when absent. */
export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const sample = values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return sample?.value ?? 0;
}
