import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import Docker from 'dockerode';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/telemetry/logger.js';
import type { Metrics } from '../src/telemetry/metrics.js';
import { percentile, type Figure } from './stats.js';
import { PLUGINS } from '../src/plugins.js';
import { inputReports } from '../src/http/views.js';
import { engineStartsS } from './engine-baseline.js';
import { STACK_PARTS, stackCpuS, stackProcesses, type StackPart } from './cpu-split.js';

/** A python.d with `inputs` folders of `collectors` collectors each (ticking every `interval` seconds); `extra` adds files. */
export function collectorTree(inputs: number, collectors: number, extra: Record<string, string> = {}, interval = 1): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-bench-'));
  for (let i = 0; i < inputs; i++) {
    const dir = path.join(root, 'python.d', `in${i}`);
    mkdirSync(dir, { recursive: true });
    const classes = Array.from(
      { length: collectors },
      (_, c) => `class C${c}(DataKitFramework):\n    interval = ${interval}\n\n    def run(self):\n        pass\n`,
    );
    writeFileSync(path.join(dir, 'noop.py'), `from datakit_framework import DataKitFramework\n\n${classes.join('\n')}`);
  }
  for (const [name, content] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(root, 'python.d', name)), { recursive: true });
    writeFileSync(path.join(root, 'python.d', name), content);
  }
  return root;
}

type Buckets = { le: number; count: number }[];

/** The cumulative bucket counts of an unlabelled prom-client histogram, now. */
async function histogramBuckets(metrics: Metrics, name: string): Promise<Buckets> {
  const { values } = await metrics.registry.getSingleMetric(name)!.get();
  return values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket')).map((v) => ({ le: Number(v.labels.le), count: v.value }));
}

/** p-th percentile of the observations between two snapshots (or since the start), interpolated inside its bucket. */
function bucketPercentile(buckets: Buckets, p: number, before?: Buckets): number {
  const counts = buckets.map((bucket, i) => ({ le: bucket.le, count: bucket.count - (before?.[i]?.count ?? 0) }));
  const rank = (p / 100) * (counts.at(-1)?.count ?? 0);
  let previous = { le: 0, count: 0 };
  for (const bucket of counts) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return previous.le;
      const share = bucket.count === previous.count ? 0 : (rank - previous.count) / (bucket.count - previous.count);
      return previous.le + share * (bucket.le - previous.le);
    }
    previous = bucket;
  }
  return NaN;
}

export async function counterSum(metrics: Metrics, name: string, match: (labels: Partial<Record<string, string | number>>) => boolean): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric(name)!.get();
  return values.filter((v) => match(v.labels)).reduce((sum, v) => sum + v.value, 0);
}

function appFor(root: string, executor: string, inputs: string[], runnerToml = ''): App {
  const config = parseConfig(
    `[runner]\nexecutor = "${executor}"\n${runnerToml}\n${inputs.join('\n')}\n[[outputs.file]]\npath = "points.jsonl"\n`,
    'bench.toml',
    root,
    PLUGINS,
  );
  return new App(config, { log: silentLogger });
}

/** What one run of N inputs × M do-nothing collectors ticking every second measured. */
interface ScaleRun {
  startupS: number;
  ticksPerS: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  startupLatenessP99Ms: number;
  /** Ticks skipped and failed in the steady state measured. */
  skipped: number;
  failed: number;
  /** Ticks skipped and failed since the start, the hosts' start included. */
  skippedSinceStart: number;
  failedSinceStart: number;
  cpuPercent: number;
  rssMb: number;
  containerRssMb: number;
  /** Percent of one core per part of the stack (docker only). */
  cpuSplit?: Record<StackPart, number>;
}

/**
 * Starts `inputs` inputs of `collectors` do-nothing collectors (interval 1 s),
 * lets them settle for `settleS` and measures `seconds` of steady state.
 * `inputConcurrency` ticks of one input may run at once (its collectors run in threads).
 */
async function measureScale(
  executor: 'docker' | 'process',
  options: { inputs: number; collectors: number; seconds: number; settleS: number; inputConcurrency: number; concurrency: number },
): Promise<ScaleRun> {
  const { inputs, collectors, seconds } = options;
  const root = collectorTree(inputs, collectors);
  const blocks = Array.from(
    { length: inputs },
    (_, i) => `[[inputs.pythond]]\nname = "in${i}"\ndirs = ["in${i}"]\nmemory = "48m"\ntimeout = "5s"\nconcurrency = ${options.inputConcurrency}`,
  );
  const app = appFor(root, executor, blocks, `concurrency = ${options.concurrency}`);
  try {
    const startBegan = performance.now();
    await app.start();
    const startupS = (performance.now() - startBegan) / 1000;
    // Steady state: while the engine is still creating containers, round trips into the first ones are slow.
    await new Promise((resolve) => setTimeout(resolve, options.settleS * 1000));
    const latenessBefore = await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds');
    const okBefore = await counterSum(app.metrics, 'pythond_ticks_total', (l) => l.status === 'ok');
    const skippedBefore = await counterSum(app.metrics, 'pythond_ticks_skipped_total', () => true);
    const failedBefore = await counterSum(app.metrics, 'pythond_tick_failures_total', () => true);
    const processes = executor === 'docker' ? await stackProcesses(app) : undefined;
    const splitBefore = processes && stackCpuS(processes);
    const cpuBefore = process.cpuUsage();
    const began = performance.now();
    // RSS once a second: one reading swings by tens of MiB with where the garbage collector is.
    const rssReadings: number[] = [];
    const reading = setInterval(() => rssReadings.push(process.memoryUsage.rss() / 1024 ** 2), 1000);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    clearInterval(reading);
    const elapsedS = (performance.now() - began) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const splitAfter = processes && stackCpuS(processes);
    const cpuSplit =
      splitBefore && splitAfter
        ? (Object.fromEntries(STACK_PARTS.map((part) => [part, ((splitAfter[part] - splitBefore[part]) / elapsedS) * 100])) as Record<StackPart, number>)
        : undefined;
    const ok = (await counterSum(app.metrics, 'pythond_ticks_total', (l) => l.status === 'ok')) - okBefore;
    const skippedSinceStart = await counterSum(app.metrics, 'pythond_ticks_skipped_total', () => true);
    const failedSinceStart = await counterSum(app.metrics, 'pythond_tick_failures_total', () => true);
    const lateness = await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds');
    return {
      startupS,
      ticksPerS: ok / elapsedS,
      latenessP50Ms: bucketPercentile(lateness, 50, latenessBefore) * 1000,
      latenessP99Ms: bucketPercentile(lateness, 99, latenessBefore) * 1000,
      startupLatenessP99Ms: bucketPercentile(latenessBefore, 99) * 1000,
      skipped: skippedSinceStart - skippedBefore,
      failed: failedSinceStart - failedBefore,
      skippedSinceStart,
      failedSinceStart,
      cpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsedS) * 100,
      rssMb: percentile(rssReadings, 50),
      containerRssMb: executor === 'docker' ? await containerRssMb(app) : NaN,
      cpuSplit,
    };
  } finally {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The mean resident memory of (up to 10 of) the app's warm containers. */
async function containerRssMb(app: App): Promise<number> {
  const docker = new Docker();
  const ids = inputReports(app)
    .flatMap((s) => s.collectors.slice(0, 1).map((c) => c.host))
    .filter((id): id is string => !!id);
  const usages = await Promise.all(
    ids.slice(0, 10).map(async (id) => {
      const stats = (await docker.getContainer(id).stats({ stream: false })) as {
        memory_stats: { usage: number; stats?: { total_inactive_file?: number; cache?: number } };
      };
      return stats.memory_stats.usage - (stats.memory_stats.stats?.total_inactive_file ?? stats.memory_stats.stats?.cache ?? 0);
    }),
  );
  return usages.reduce((a, b) => a + b, 0) / usages.length / 1024 ** 2;
}

/** N inputs × M collectors ticking every second: throughput, lateness, cost. */
export async function scaleFigures(executor: 'docker' | 'process', quick: boolean): Promise<Figure[]> {
  const [inputs, collectors, seconds] = quick ? [10, 10, 10] : [50, 10, 60];
  const run = await measureScale(executor, { inputs, collectors, seconds, settleS: 3, inputConcurrency: 1, concurrency: 16 });
  const figures: Figure[] = [
    {
      name: 'scale_ticks_per_s',
      value: run.ticksPerS,
      unit: 'ticks/s',
      baseline: { name: 'scale_ticks_due_per_s', value: inputs * collectors },
      target: '500 ticks/s (50×10)',
    },
    { name: 'scale_lateness_p50_ms', value: run.latenessP50Ms, unit: 'ms' },
    { name: 'scale_lateness_p99_ms', value: run.latenessP99Ms, unit: 'ms', target: '<= 10 ms (steady state)' },
    { name: 'scale_startup_lateness_p99_ms', value: run.startupLatenessP99Ms, unit: 'ms', target: 'while the hosts start' },
    { name: 'scale_startup_s', value: run.startupS, unit: 's', target: `${inputs} hosts` },
    { name: 'scale_skipped_ticks', value: run.skippedSinceStart, unit: 'ticks', target: 'since the start' },
    { name: 'scale_failed_ticks', value: run.failedSinceStart, unit: 'ticks', target: 'since the start' },
    { name: 'scale_runner_cpu_percent', value: run.cpuPercent, unit: '% of one core' },
    { name: 'scale_runner_rss_mb', value: run.rssMb, unit: 'MiB', target: '<= 150 MiB (median of a reading a second)' },
  ];
  if (executor === 'docker') figures.push({ name: 'scale_container_rss_mb', value: run.containerRssMb, unit: 'MiB' });
  return figures;
}

/** The rates the ceiling steps through, in ticks/s. */
export const CEILING_RATES = [250, 500, 1000, 2000] as const;
/** Steady-state lateness p99 a rate must keep to count as sustained. */
const CEILING_LATENESS_P99_MS = 10;

/**
 * The ceiling: 50 warm inputs whose collectors tick every second, stepping
 * the rate through CEILING_RATES by their number of collectors; the highest
 * rate whose steady state has lateness p99 <= 10 ms and no skipped or failed
 * tick, with the runner's CPU at each step. A collector's ticks run in the
 * host's threads, so an input may run as many at once as it has collectors.
 */
export async function ceilingFigures(executor: 'docker' | 'process', quick: boolean, log: (text: string) => void): Promise<Figure[]> {
  const inputs = 50;
  const seconds = quick ? 8 : 20;
  const figures: Figure[] = [];
  let ceiling = 0;
  let stillSustained = true;
  for (const rate of CEILING_RATES) {
    const collectors = rate / inputs;
    const run = await measureScale(executor, { inputs, collectors, seconds, settleS: 3, inputConcurrency: collectors, concurrency: 256 });
    const sustained = run.latenessP99Ms <= CEILING_LATENESS_P99_MS && run.skipped === 0 && run.failed === 0 && run.ticksPerS >= rate * 0.98;
    log(
      `  ${rate} ticks/s: ${run.ticksPerS.toFixed(0)} ok/s, lateness p99 ${run.latenessP99Ms.toFixed(2)} ms, ${run.skipped} skipped, ${run.failed} failed, CPU ${run.cpuPercent.toFixed(1)}%, RSS ${run.rssMb.toFixed(0)} MiB${sustained ? '' : ' (not sustained)'}`,
    );
    // A rate counts only when every lower one was sustained too.
    if (sustained && stillSustained) ceiling = rate;
    else stillSustained = false;
    figures.push(
      { name: `scale_runner_cpu_percent_${rate}`, value: run.cpuPercent, unit: '% of one core', target: `${inputs} inputs × ${collectors} collectors` },
      { name: `scale_lateness_p99_ms_${rate}`, value: run.latenessP99Ms, unit: 'ms', target: `<= ${CEILING_LATENESS_P99_MS} ms` },
    );
    // Where the step's CPU goes, beside the runner's: the 2000 step is the one past the ceiling.
    for (const part of run.cpuSplit && (rate === 1000 || rate === 2000) ? STACK_PARTS : []) {
      const what = part.startsWith('runner')
        ? 'this runner'
        : part === 'dockerd' || part === 'containerd'
          ? "the whole machine's engine"
          : "the app's containers";
      figures.push({ name: `cpu_split_${rate}_${part}_percent`, value: run.cpuSplit![part], unit: '% of one core', target: what });
    }
  }
  figures.unshift({
    name: 'scale_max_ticks_per_s',
    value: ceiling,
    unit: 'ticks/s',
    target: `>= 1000, lateness p99 <= ${CEILING_LATENESS_P99_MS} ms, none skipped`,
  });
  return figures;
}

/** One collector reports a million points while others tick: their lateness, and the pipeline's rate. */
export async function bigReportFigures(executor: 'docker' | 'process', quick: boolean): Promise<Figure[]> {
  const [others, points] = quick ? [20, 200_000] : [100, 1_000_000];
  const big = `import time\nfrom datakit_framework import DataKitFramework\n\nclass Big(DataKitFramework):\n    interval = 3600\n\n    def run(self):\n        self.report({'M': [{'measurement': 'big', 'tags': {'host': 'h'}, 'fields': {'i': i, 'v': 0.5}} for i in range(${points})]})\n`;
  const root = collectorTree(1, others, { 'big/big.py': big });
  const app = appFor(
    root,
    executor,
    [
      `[[inputs.pythond]]\nname = "others"\ndirs = ["in0"]\nconcurrency = ${others}`,
      '[[inputs.pythond]]\nname = "big"\ndirs = ["big"]\nmemory = "2g"\ntimeout = "120s"\nmax_points = 2000000\nmax_report_size = "512MiB"',
    ],
    `concurrency = ${others + 4}`,
  );
  await app.start();
  const status = () => inputReports(app).find((s) => s.input === 'big')!.collectors[0]!;
  const waitUntil = async (done: () => boolean, what: string) => {
    const began = performance.now();
    while (!done()) {
      if (performance.now() - began > 300_000) throw new Error(`big report: ${what} did not happen in 5 minutes`);
      // Not more often: building the status of 101 collectors 50 times a second doubled the main thread's GC during the big tick.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  // The others' lateness while the big tick runs, from its start to its end.
  await waitUntil(() => status().state === 'running', 'the tick starting');
  const before = await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds');
  // The main thread's GC pauses meanwhile (this process is the runner).
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  await waitUntil(() => status().lastStatus !== undefined, 'the tick ending');
  gc.disconnect();
  const lateness = bucketPercentile(await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds'), 99, before) * 1000;
  const big_ = status();
  await app.stop();
  const written = readFileSync(path.join(root, 'points.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.includes('"big"')).length;
  rmSync(root, { recursive: true, force: true });
  if (big_.lastStatus !== 'ok' || written !== points)
    throw new Error(`big report: ${big_.lastStatus} ${big_.lastError ?? ''}, ${written} of ${points} points written`);
  return [
    { name: 'bigreport_lateness_p99_ms', value: lateness, unit: 'ms', target: `others' lateness while ${points} points flow` },
    { name: 'bigreport_tick_s', value: big_.lastDurationMs! / 1000, unit: 's' },
    { name: 'bigreport_main_thread_gc_ms', value: gcMs, unit: 'ms', target: "the runner's main thread in GC during the big tick" },
  ];
}

/** The resident memory of a real `pythond run` over the demo collectors, idle between ticks. */
export async function idleFigures(executor: 'docker' | 'process'): Promise<Figure[]> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-bench-'));
  const main = new URL('../src/main.js', import.meta.url).pathname;
  const demo = new URL('../../python.d', import.meta.url).pathname;
  writeFileSync(
    path.join(root, 'pythond.toml'),
    `[runner]\nexecutor = "${executor}"\nlisten = "127.0.0.1:0"\npython_d = ${JSON.stringify(demo)}\n[[inputs.pythond]]\nname = "demo"\ndirs = ["demo"]\n[[outputs.file]]\npath = "points.jsonl"\n`,
  );
  // As users start it: the file itself, through its first line (node and its flags).
  const child = spawn(main, ['run', '--config', path.join(root, 'pythond.toml')], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 12_000)); // past the first demo ticks
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return [{ name: 'idle_rss_mb', value: rssKb / 1024, unit: 'MiB', target: `pythond run, demo collectors, ${executor} executor` }];
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Many inputs starting beside inputs already up: 10 warm inputs × 10
 * collectors tick; a reload then adds 50 warm inputs. How long the 50 take
 * to start (the reload resolves once each has started), and meanwhile the
 * lateness of every tick (a new input ticks only once its host is up) and
 * the ticks skipped of the 10 already up. Its baseline, just before and
 * beside the same 10 inputs ticking: the engine starting 50 bare
 * containers like theirs, as many at a time as pythond starts hosts.
 */
export async function startupFigures(executor: 'docker' | 'process', quick: boolean): Promise<Figure[]> {
  const [up, added] = quick ? [10, 20] : [10, 50];
  const root = collectorTree(up + added, 10);
  const block = (i: number) => `[[inputs.pythond]]\nname = "in${i}"\ndirs = ["in${i}"]\nmemory = "48m"\ntimeout = "5s"\nconcurrency = 10`;
  const configOf = (inputs: number) =>
    parseConfig(
      `[runner]\nexecutor = "${executor}"\nconcurrency = 64\n${Array.from({ length: inputs }, (_, i) => block(i)).join('\n')}\n[[outputs.file]]\npath = "points.jsonl"\n`,
      'bench.toml',
      root,
      PLUGINS,
    );
  let config = configOf(up);
  const app = new App(config, { log: silentLogger, source: { load: () => config } });
  try {
    await app.start();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const model = inputReports(app).find((s) => s.input === 'in0')?.collectors[0]?.host;
    const engineS = executor === 'docker' && model ? await engineStartsS(model, added, config.runner.host_starts) : NaN;
    const upInputs = new Set(Array.from({ length: up }, (_, i) => `in${i}`));
    const skippedOfUp = () => counterSum(app.metrics, 'pythond_ticks_skipped_total', (l) => upInputs.has(String(l.input)));
    const skippedBefore = await skippedOfUp();
    const latenessBefore = await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds');
    config = configOf(up + added);
    const began = performance.now();
    const result = await app.reload('bench');
    const startS = (performance.now() - began) / 1000;
    if (result.result !== 'ok' || result.added.length !== added)
      throw new Error(`startup: reload ${result.result}, ${result.added.length} of ${added} inputs added`);
    const lateness = bucketPercentile(await histogramBuckets(app.metrics, 'pythond_schedule_lateness_seconds'), 99, latenessBefore) * 1000;
    return [
      {
        name: 'startup_inputs_s',
        value: startS,
        unit: 's',
        baseline: { name: 'startup_engine_baseline_s', value: engineS },
        target: `<= 1.2× the engine's own ${added} starts (${config.runner.host_starts} at a time, same image and limits), beside ${up} inputs up`,
      },
      { name: 'startup_lateness_p99_ms', value: lateness, unit: 'ms', target: '<= 10 ms meanwhile' },
      { name: 'startup_skipped_ticks', value: (await skippedOfUp()) - skippedBefore, unit: 'ticks', target: `0 of the ${up} inputs up` },
    ];
  } finally {
    await app.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
