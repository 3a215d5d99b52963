import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { bigReportFigures, CEILING_RATES, ceilingFigures, idleFigures, scaleFigures, startupFigures } from './app-bench.js';
import { clusterFigures } from './cluster.js';
import { dockerFigures, processFigures } from './executors.js';
import { httpFigures } from './http.js';
import { outputFigures } from './outputs.js';
import { pipelineFigures } from './pipeline.js';
import { prometheusFigures } from './prometheus.js';
import { rssFigures } from './rss.js';
import { printTable, round, type Figure } from './stats.js';

/**
 * `npm run bench [-- --json] [-- --quick]`: what pythond costs, each figure
 * next to a baseline measured in the same run, so the ratios mean something
 * on a small, noisy machine.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string', multiple: true }, section: { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const log = (text: string) => {
    if (!values.json) process.stderr.write(`${text}\n`);
  };
  const dockerUp = await new Docker().ping().then(
    () => true,
    () => false,
  );
  const executor = dockerUp ? 'docker' : 'process';
  if (!dockerUp) log('no Docker engine: docker figures skipped, scale figures use the process executor');

  // In this order; `--only <name>` (repeatable) runs just those, to iterate on one figure.
  const sections: { name: string; what: string; run(): Promise<Figure[]> }[] = [
    { name: 'process', what: 'process executor', run: () => processFigures(quick) },
    { name: 'pipeline', what: 'point pipeline', run: () => pipelineFigures(2, quick) },
    ...(dockerUp ? [{ name: 'docker', what: 'docker executor', run: () => dockerFigures(quick) }] : []),
    { name: 'idle', what: `idle runner (${executor})`, run: () => idleFigures(executor) },
    { name: 'rss', what: `runner memory with 10, 50 and 200 warm inputs idle (${executor})`, run: () => rssFigures(executor, quick) },
    { name: 'scale', what: `scale (${executor})`, run: () => scaleFigures(executor, quick) },
    { name: 'ceiling', what: `ceiling (${executor}): ${CEILING_RATES.join(', ')} ticks/s`, run: () => ceilingFigures(executor, quick, log) },
    { name: 'startup', what: `inputs starting beside inputs up (${executor})`, run: () => startupFigures(executor, quick) },
    { name: 'bigreport', what: `big report (${executor})`, run: () => bigReportFigures(executor, quick) },
    { name: 'http', what: 'HTTP API', run: () => httpFigures(quick) },
    { name: 'outputs', what: 'outputs (a VictoriaMetrics on a free port)', run: () => outputFigures(quick) },
    {
      name: 'prometheus',
      what: 'Prometheus outputs: remote write (a VictoriaMetrics on a free port), an endpoint of 100,000 series',
      run: () => prometheusFigures(quick),
    },
    { name: 'cluster', what: 'cluster mode (a real etcd on free ports; skipped without etcd-server)', run: () => clusterFigures(quick) },
  ];
  // `--section <name>`: the child process that measures one section, its figures as JSON on stdout.
  if (values.section) {
    const section = sections.find((s) => s.name === values.section);
    if (!section) throw new Error(`no bench section ${values.section}; have ${sections.map((s) => s.name).join(', ')}`);
    process.stdout.write(`${JSON.stringify(await section.run())}\n`);
    return;
  }
  const childFlags = process.argv.slice(2).filter((arg) => arg === '--quick' || arg === '--json');
  const figures: Figure[] = [];
  for (const section of sections) {
    if (values.only && !values.only.includes(section.name)) continue;
    log(`${section.what} ...`);
    figures.push(...(await inOwnProcess(section.name, childFlags)));
  }

  if (values.json) {
    const json: Record<string, number> = {};
    for (const figure of figures) {
      json[figure.name] = round(figure.value);
      if (figure.baseline) json[figure.baseline.name] = round(figure.baseline.value);
    }
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    printTable(figures);
  }
}

/**
 * Runs one section in a process of its own: what a section leaves behind (a
 * heap grown by a million points, threads, sockets) must not weigh on the
 * next one's memory and CPU figures.
 */
async function inOwnProcess(section: string, flags: string[]): Promise<Figure[]> {
  const args = [...runnerNodeFlags(), fileURLToPath(import.meta.url), '--section', section, ...flags];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench section ${section} failed (exit ${code})`);
  return JSON.parse(out) as Figure[];
}

/** The node flags of the runner (the first line of src/main.ts): sections that run an App in their process measure it as shipped. */
function runnerNodeFlags(): string[] {
  const shebang = readFileSync(new URL('../src/main.js', import.meta.url), 'utf8').split('\n', 1)[0]!;
  return /\bnode\b(.*)$/.exec(shebang)![1]!.split(' ').filter(Boolean);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
