import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { bigReportFigures, idleFigures, scaleFigures } from './app-bench.js';
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
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, quick: { type: 'boolean' } } });
  const quick = values.quick ?? false;
  const log = (text: string) => {
    if (!values.json) process.stderr.write(`${text}\n`);
  };

  const figures: Figure[] = [];
  log('process executor ...');
  figures.push(...(await processFigures(quick)));
  log('point pipeline ...');
  figures.push(...(await pipelineFigures(2, quick)));
  const dockerUp = await new Docker().ping().then(
    () => true,
    () => false,
  );
  const executor = dockerUp ? 'docker' : 'process';
  if (dockerUp) {
    log('docker executor ...');
    figures.push(...(await dockerFigures(quick)));
  } else {
    log('no Docker engine: docker figures skipped, scale figures use the process executor');
  }
  log(`idle runner (${executor}) ...`);
  figures.push(...(await idleFigures(executor)));
  log(`scale (${executor}) ...`);
  figures.push(...(await scaleFigures(executor, quick)));
  log(`big report (${executor}) ...`);
  figures.push(...(await bigReportFigures(executor, quick)));

  log('HTTP API ...');
  figures.push(...(await httpFigures(quick)));

  log('outputs (a VictoriaMetrics on a free port) ...');
  figures.push(...(await outputFigures(quick)));

  log('cluster mode (a real etcd on free ports; skipped without etcd-server) ...');
  figures.push(...(await clusterFigures(quick)));

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
