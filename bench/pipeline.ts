import { PointPipeline } from '../src/points/pipeline.js';
import type { Figure } from './stats.js';

/** Report lines as the collector host sends them: 5000 points each. */
function reportLines(points: number): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start < points; start += 5000) {
    const chunk = Array.from({ length: Math.min(5000, points - start) }, (_, i) => ({
      measurement: 'cpu',
      tags: { host: 'web01', cpu: `cpu${i % 8}` },
      fields: { usage_user: 12.5 + i, usage_system: 3.25, running: true },
    }));
    lines.push(Buffer.from(JSON.stringify({ type: 'report', id: '1', collector: 'b.B', data: { input: 'bench', M: chunk } })));
  }
  return lines;
}

/** Points/s through decode + validate + encode in the worker pool, against JSON.parse alone on one thread. */
export async function pipelineFigures(workers: number, quick: boolean): Promise<Figure[]> {
  const points = quick ? 200_000 : 1_000_000;
  const lines = reportLines(points);

  // The baseline first: the pipeline moves each line into its worker, so the lines are gone after it.
  let began = performance.now();
  for (const line of lines) JSON.parse(line.toString('utf8'));
  const parseS = (performance.now() - began) / 1000;

  const pipeline = new PointPipeline({ workers, encodings: () => ['jsonl', 'lineProtocol'] });
  // Warm the threads up with copies: a line is moved into its worker, so each is used once.
  await Promise.all(lines.slice(0, workers).map((line) => pipeline.decodeReport(Buffer.from(line), { tags: {}, globalTags: {} })));
  began = performance.now();
  const results = await Promise.all(lines.map((line) => pipeline.decodeReport(line, { tags: { env: 'bench' }, globalTags: { host: 'bench-host' } })));
  const pipelineS = (performance.now() - began) / 1000;
  await pipeline.close();
  const accepted = results.reduce((sum, r) => sum + r.points, 0);
  if (accepted !== points) throw new Error(`pipeline accepted ${accepted} of ${points} points`);
  return [
    {
      name: 'pipeline_points_per_s',
      value: points / pipelineS,
      unit: 'points/s',
      baseline: { name: 'json_parse_points_per_s', value: points / parseS },
      target: `${workers} worker(s), both encodings`,
    },
  ];
}
