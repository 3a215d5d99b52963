import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { startHttpApi } from '../src/http/server.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { VictoriaMetrics } from '../test/helpers/metric-servers.js';
import { percentile, type Figure } from './stats.js';
import { PLUGINS } from '../src/plugins.js';
import { statCpuS } from './cpu-split.js';
import { lineProtocolBody } from './post-client.js';

const execFileAsync = promisify(execFile);

const LINES = 100_000;
const CONNECTIONS = 4;

/** Posts the benchmark body (gzipped with `gzip`) `rounds` times over CONNECTIONS connections from a client process of its own (see post-client.ts). */
async function postMany(url: string, rounds: number, gzip = false): Promise<{ perPostMs: number[]; wallMs: number }> {
  const client = new URL('./post-client.js', import.meta.url).pathname;
  const args = [client, '--url', url, '--lines', String(LINES), '--rounds', String(rounds), '--connections', String(CONNECTIONS), ...(gzip ? ['--gzip'] : [])];
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: 16 * 1024 ** 2 });
  return JSON.parse(stdout) as { perPostMs: number[]; wallMs: number };
}

/** CPU seconds a process (or with `/task/<tid>`, one of its threads) has used, user and system. */
const processCpuS = (pid: number | string): number => statCpuS(`/proc/${pid}/stat`);

/** Posts as postMany does, and the CPU seconds the server process `pid` used meanwhile. */
async function postManyCounted(
  pid: number,
  url: string,
  rounds: number,
): Promise<{ perPostMs: number[]; wallMs: number; cpuS: number; mainThreadCpuS: number }> {
  const before = processCpuS(pid);
  const mainBefore = processCpuS(`${pid}/task/${pid}`);
  const run = await postMany(url, rounds);
  return { ...run, cpuS: processCpuS(pid) - before, mainThreadCpuS: processCpuS(`${pid}/task/${pid}`) - mainBefore };
}

/** The transport alone: a plain node:http server that reads each body and answers 200. */
async function sinkServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    request.on('data', () => {}).on('end', () => response.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/**
 * The write API's ingest rate for 100k-line line-protocol bodies over several
 * connections (parsed in the workers, written by the file output), against
 * the same posts to a local VictoriaMetrics' /write and to a server that only
 * reads them; and the /metrics scrape against prom-client rendering the same
 * registry in-process.
 */
export async function httpFigures(quick: boolean): Promise<Figure[]> {
  const rounds = quick ? 4 : 16;
  const root = mkdtempSync(path.join(os.tmpdir(), 'pythond-bench-'));
  mkdirSync(path.join(root, 'python.d/idle'), { recursive: true });
  writeFileSync(
    path.join(root, 'python.d/idle/idle.py'),
    'from datakit_framework import DataKitFramework\n\nclass Idle(DataKitFramework):\n    interval = 3600\n\n    def run(self):\n        pass\n',
  );
  const config = parseConfig(
    '[runner]\nexecutor = "process"\nlisten = "127.0.0.1:0"\n[[inputs.pythond]]\nname = "idle"\ndirs = ["idle"]\n[[outputs.file]]\npath = "data/points.jsonl"\n',
    'bench.toml',
    root,
    PLUGINS,
  );
  const app = new App(config, { log: silentLogger });
  const api = await startHttpApi(app, { listen: config.runner.listen, maxBodySize: config.runner.max_body_size, log: silentLogger });
  const sink = await sinkServer();
  const victoria = await VictoriaMetrics.start();
  try {
    await app.start();
    const bodyMiB = lineProtocolBody(LINES).length / 1024 ** 2;
    // CPU per point beside wall time: on a loaded machine wall-time rates swing 2× from run to run, CPU time far less.
    const pythond = await postManyCounted(process.pid, `${api.url}/v1/write/metric`, rounds);
    const gzipped = await postMany(`${api.url}/v1/write/metric`, rounds, true);
    const raw = await postMany(sink.url, rounds);
    const vm = await postManyCounted(victoria.pid!, `${victoria.url}/write`, rounds);

    const scrapes: number[] = [];
    const renders: number[] = [];
    for (let i = 0; i < (quick ? 20 : 100); i++) {
      let began = performance.now();
      await (await fetch(`${api.url}/metrics`)).text();
      scrapes.push(performance.now() - began);
      began = performance.now();
      await app.metrics.registry.metrics();
      renders.push(performance.now() - began);
    }

    const pointsPerSecond = (run: { wallMs: number }) => (rounds * LINES) / (run.wallMs / 1000);
    return [
      {
        name: 'ingest_points_per_s',
        value: pointsPerSecond(pythond),
        unit: 'points/s',
        baseline: { name: 'vm_ingest_points_per_s', value: pointsPerSecond(vm) },
        target: `>= 0.8× (${LINES / 1000}k-line bodies, ${CONNECTIONS} connections, ${config.runner.workers} workers, file output)`,
      },
      {
        name: 'ingest_cpu_us_per_point',
        value: (pythond.cpuS / (rounds * LINES)) * 1e6,
        unit: 'µs',
        baseline: { name: 'vm_ingest_cpu_us_per_point', value: (vm.cpuS / (rounds * LINES)) * 1e6 },
        target: 'CPU of the whole process (main thread, workers, file output) per point taken, against VictoriaMetrics storing it',
      },
      {
        name: 'ingest_main_thread_cpu_us_per_point',
        value: (pythond.mainThreadCpuS / (rounds * LINES)) * 1e6,
        unit: 'µs',
        baseline: { name: 'ingest_cpu_us_per_point', value: (pythond.cpuS / (rounds * LINES)) * 1e6 },
        target: "the main thread's share (HTTP, moving bodies and batches, the file output); the rest is the workers and the GC's threads",
      },
      {
        name: 'ingest_gzip_points_per_s',
        value: pointsPerSecond(gzipped),
        unit: 'points/s',
        baseline: { name: 'ingest_points_per_s', value: pointsPerSecond(pythond) },
        target: 'the same bodies gzipped: inflated in the workers',
      },
      {
        name: 'ingest_points_per_s_vs_read_only_http',
        value: pointsPerSecond(pythond),
        unit: 'points/s',
        baseline: { name: 'read_only_http_points_per_s', value: pointsPerSecond(raw) },
      },
      {
        name: 'ingest_body_p50_ms',
        value: percentile(pythond.perPostMs, 50),
        unit: 'ms',
        baseline: { name: 'vm_ingest_body_p50_ms', value: percentile(vm.perPostMs, 50) },
        target: `one ${bodyMiB.toFixed(1)} MiB body`,
      },
      {
        name: 'metrics_scrape_p50_ms',
        value: percentile(scrapes, 50),
        unit: 'ms',
        baseline: { name: 'registry_render_p50_ms', value: percentile(renders, 50) },
      },
    ];
  } finally {
    await api.close();
    await app.stop();
    await new Promise((resolve) => sink.server.close(resolve));
    await victoria.close();
    rmSync(root, { recursive: true, force: true });
  }
}
