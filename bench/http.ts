import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { startHttpApi } from '../src/http/server.js';
import { silentLogger } from '../src/logger.js';
import { VictoriaMetrics } from '../test/helpers/metric-servers.js';
import { percentile, type Figure } from './stats.js';
import { PLUGINS } from '../src/plugins.js';

const LINES = 100_000;
const CONNECTIONS = 4;

/** A line-protocol body of `lines` points, each with tags, four field types and a timestamp (~110 bytes a line). */
function lineProtocolBody(lines: number): Uint8Array<ArrayBuffer> {
  const parts: string[] = [];
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < lines; i++) {
    parts.push(`bench_cpu,host=web${i % 50},region=eu-west-1 usage=${(i % 1000) / 10},count=${i}i,ok=t,state="running" ${t0 + BigInt(i)}\n`);
  }
  return Buffer.from(parts.join(''));
}

/** Posts `body` `rounds` times over `connections` connections at once; the wall time of each post. */
async function postMany(url: string, body: Uint8Array<ArrayBuffer>, rounds: number, connections: number): Promise<{ perPostMs: number[]; wallMs: number }> {
  const perPostMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < rounds) {
        const began = performance.now();
        const response = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
        if (!response.ok) throw new Error(`write answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
        perPostMs.push(performance.now() - began);
      }
    }),
  );
  return { perPostMs, wallMs: performance.now() - started };
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
    const body = lineProtocolBody(LINES);
    await postMany(`${api.url}/v1/write/metric`, body, CONNECTIONS, CONNECTIONS); // warm up workers and connections

    const pythond = await postMany(`${api.url}/v1/write/metric`, body, rounds, CONNECTIONS);
    const raw = await postMany(sink.url, body, rounds, CONNECTIONS);
    await postMany(`${victoria.url}/write`, body, CONNECTIONS, CONNECTIONS);
    const vm = await postMany(`${victoria.url}/write`, body, rounds, CONNECTIONS);

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
        target: `>= 0.5× (${LINES / 1000}k-line bodies, ${CONNECTIONS} connections, ${config.runner.workers} workers, file output)`,
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
        target: `one ${(body.length / 1024 ** 2).toFixed(1)} MiB body`,
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
