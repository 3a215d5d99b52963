import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { PLUGINS } from '../src/plugins.js';
import { percentile, type Figure } from './stats.js';

const IMAGE = 'pythond-python:3';
const ECHO = 'import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n    sys.stdout.flush()\n';

/** A python.d with one collector whose run() does nothing. */
function noopTree(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-bench-'));
  mkdirSync(path.join(root, 'python.d/noop'), { recursive: true });
  writeFileSync(
    path.join(root, 'python.d/noop/noop.py'),
    'from datakit_framework import DataKitFramework\n\nclass Noop(DataKitFramework):\n    interval = 60\n\n    def run(self):\n        pass\n',
  );
  return root;
}

/** Tick wall time minus the collector's own run() time, over `ticks` sequential ticks. */
async function tickOverheads(
  executor: 'process' | 'docker',
  mode: 'warm' | 'fresh',
  ticks: number,
): Promise<{ overheads: number[]; hostId?: string; close(): Promise<void> }> {
  const root = noopTree();
  const config = parseConfig(
    `[runner]\nexecutor = "${executor}"\n[[inputs.pythond]]\nname = "bench"\ndirs = ["noop"]\nmode = "${mode}"\ntimeout = "30s"\n[[outputs.stdout]]\n`,
    'bench.toml',
    root,
    PLUGINS,
  );
  const app = new App(config, { log: silentLogger, outputs: {} });
  await app.start({ schedule: false });
  const runner = app.inputs[0]!;
  const [collector] = runner.collectors;
  const overheads: number[] = [];
  for (let i = 0; i < ticks; i++) {
    const outcome = await runner.tick(collector!);
    if (outcome.status !== 'ok') throw new Error(`bench tick failed: ${outcome.error}`);
    overheads.push(outcome.durationMs - (outcome.runMs ?? 0));
  }
  return {
    overheads,
    hostId: runner.status().collectors[0]?.host,
    close: async () => {
      await app.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Round trips of one JSON line through a child's stdin/stdout echo loop. */
async function echoRoundTrips(command: string, args: string[], count: number): Promise<number[]> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const times: number[] = [];
  let pending: (() => void) | undefined;
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    if (buffered.endsWith('\n')) {
      buffered = '';
      pending?.();
    }
  });
  const roundTrip = () =>
    new Promise<number>((resolve) => {
      const began = performance.now();
      pending = () => resolve(performance.now() - began);
      child.stdin.write(`${JSON.stringify({ op: 'run', id: String(times.length), collector: 'noop.Noop' })}\n`);
    });
  await roundTrip(); // the first one includes the child's start
  for (let i = 0; i < count; i++) times.push(await roundTrip());
  child.stdin.end();
  await new Promise((resolve) => child.on('exit', resolve));
  return times;
}

async function timeCommand(command: string, args: string[], runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const began = performance.now();
    await new Promise<void>((resolve, reject) =>
      spawn(command, args, { stdio: 'ignore' }).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}`)),
      ),
    );
    times.push(performance.now() - began);
  }
  return times;
}

export async function processFigures(quick: boolean): Promise<Figure[]> {
  const ticks = quick ? 300 : 2000;
  const warm = await tickOverheads('process', 'warm', ticks);
  await warm.close();
  const pipe = await echoRoundTrips('python3', ['-u', '-c', ECHO], ticks);
  return [
    {
      name: 'process_overhead_p50_ms',
      value: percentile(warm.overheads, 50),
      unit: 'ms',
      baseline: { name: 'python_pipe_baseline_p50_ms', value: percentile(pipe, 50) },
    },
    {
      name: 'process_overhead_p99_ms',
      value: percentile(warm.overheads, 99),
      unit: 'ms',
      baseline: { name: 'python_pipe_baseline_p99_ms', value: percentile(pipe, 99) },
    },
  ];
}

export async function dockerFigures(quick: boolean): Promise<Figure[]> {
  const ticks = quick ? 300 : 2000;
  const freshTicks = quick ? 5 : 20;
  const docker = new Docker();

  const warm = await tickOverheads('docker', 'warm', ticks);
  const stats = (await docker.getContainer(warm.hostId!).stats({ stream: false })) as {
    memory_stats: { usage: number; stats?: { cache?: number; total_inactive_file?: number } };
  };
  const rssBytes = stats.memory_stats.usage - (stats.memory_stats.stats?.total_inactive_file ?? stats.memory_stats.stats?.cache ?? 0);
  await warm.close();

  const attach = await echoRoundTrips('docker', ['run', '-i', '--rm', '--network', 'none', IMAGE, 'python3', '-u', '-c', ECHO], ticks);

  const fresh = await tickOverheads('docker', 'fresh', freshTicks);
  await fresh.close();
  const bareRun = await timeCommand('docker', ['run', '--rm', IMAGE, 'python3', '-c', 'pass'], freshTicks);
  const startTimes = await timeCommand('docker', ['run', '--rm', IMAGE, 'true'], freshTicks);

  return [
    {
      name: 'warm_overhead_p50_ms',
      value: percentile(warm.overheads, 50),
      unit: 'ms',
      baseline: { name: 'attach_baseline_p50_ms', value: percentile(attach, 50) },
      target: '<= 2×',
    },
    {
      name: 'warm_overhead_p99_ms',
      value: percentile(warm.overheads, 99),
      unit: 'ms',
      baseline: { name: 'attach_baseline_p99_ms', value: percentile(attach, 99) },
    },
    {
      name: 'fresh_overhead_p50_ms',
      value: percentile(fresh.overheads, 50),
      unit: 'ms',
      baseline: { name: 'docker_run_baseline_p50_ms', value: percentile(bareRun, 50) },
      target: '<= 1.1×',
    },
    { name: 'container_start_p50_ms', value: percentile(startTimes, 50), unit: 'ms' },
    { name: 'warm_container_rss_mb', value: rssBytes / 1024 ** 2, unit: 'MiB' },
  ];
}
