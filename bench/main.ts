import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { bigReportFigures, CEILING_RATES, ceilingFigures, idleFigures, scaleFigures, startupFigures } from './app-bench.js';
import { clusterFigures } from './cluster.js';
import { dockerFigures, processFigures } from './executors.js';
import { httpFigures } from './http.js';
import { outputFigures } from './outputs.js';
import { pipelineFigures } from './pipeline.js';
import { printTable, round, type Figure } from './stats.js';

/**
 * `npm run bench [-- --json] [-- --quick]`: what pythond costs, each figure
 * next to a baseline measured in the same run, so the ratios mean something
 * on a small, noisy machine.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string', multiple: true } } });
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
    { name: 'scale', what: `scale (${executor})`, run: () => scaleFigures(executor, quick) },
    { name: 'ceiling', what: `ceiling (${executor}): ${CEILING_RATES.join(', ')} ticks/s`, run: () => ceilingFigures(executor, quick, log) },
    { name: 'startup', what: `inputs starting beside inputs up (${executor})`, run: () => startupFigures(executor, quick) },
    { name: 'bigreport', what: `big report (${executor})`, run: () => bigReportFigures(executor, quick) },
    { name: 'http', what: 'HTTP API', run: () => httpFigures(quick) },
    { name: 'outputs', what: 'outputs (a VictoriaMetrics on a free port)', run: () => outputFigures(quick) },
    { name: 'cluster', what: 'cluster mode (a real etcd on free ports; skipped without etcd-server)', run: () => clusterFigures(quick) },
  ];
  const figures: Figure[] = [];
  for (const section of sections) {
    if (values.only && !values.only.includes(section.name)) continue;
    log(`${section.what} ...`);
    figures.push(...(await section.run()));
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

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
