import { rmSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { PLUGINS } from '../src/plugins.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { collectorTree } from './app-bench.js';
import { percentile, type Figure } from './stats.js';

setFlagsFromString('--expose-gc');
/** A full collection before each step's readings: what is measured is what the inputs hold, not garbage. */
const collectGarbage = runInNewContext('gc') as () => void;

/** The runner's RSS in MiB: the median of a reading a second over `seconds`, after a full collection. */
async function settledRssMb(seconds: number): Promise<number> {
  collectGarbage();
  const readings: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    readings.push(process.memoryUsage.rss() / 1024 ** 2);
  }
  return percentile(readings, 50);
}

/**
 * How the runner's memory grows with inputs: one App reloaded from 10 to
 * 50 to 200 warm inputs of one idle collector (interval 1 h, so nothing
 * ticks), its RSS read at each step once every host is up;
 * `rss_per_input_kib` is the growth from the first step to the last, per
 * input added. The idle runner itself (node, dockerode, the workers) is
 * `idle_rss_mb`.
 */
export async function rssFigures(executor: 'docker' | 'process', quick: boolean): Promise<Figure[]> {
  const steps = quick ? [10, 20, 40] : [10, 50, 200];
  const root = collectorTree(steps.at(-1)!, 1, {}, 3600);
  const block = (i: number) => `[[inputs.pythond]]\nname = "in${i}"\ndirs = ["in${i}"]\nmemory = "48m"\ntimeout = "5s"`;
  const configOf = (inputs: number) =>
    parseConfig(
      `[runner]\nexecutor = "${executor}"\n${Array.from({ length: inputs }, (_, i) => block(i)).join('\n')}\n[[outputs.file]]\npath = "points.jsonl"\n`,
      'bench.toml',
      root,
      PLUGINS,
    );
  let config = configOf(steps[0]!);
  const app = new App(config, { log: silentLogger, source: { load: () => config } });
  const rssMb: number[] = [];
  try {
    await app.start();
    rssMb.push(await settledRssMb(quick ? 3 : 10));
    for (const inputs of steps.slice(1)) {
      config = configOf(inputs);
      const result = await app.reload('bench');
      if (result.result !== 'ok') throw new Error(`rss: the reload to ${inputs} inputs ended ${result.result}`);
      rssMb.push(await settledRssMb(quick ? 3 : 10));
    }
  } finally {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const perInputKib = ((rssMb.at(-1)! - rssMb[0]!) * 1024) / (steps.at(-1)! - steps[0]!);
  return [
    ...steps.map((inputs, i) => ({ name: `rss_inputs_${inputs}_mb`, value: rssMb[i]!, unit: 'MiB', target: `${inputs} warm inputs idle (${executor})` })),
    { name: 'rss_per_input_kib', value: perInputKib, unit: 'KiB', target: `RSS growth per warm input, ${steps[0]} → ${steps.at(-1)} inputs` },
  ];
}
