import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dedent, tempTree } from './fixtures.js';

/** The smallest useful collector: one `tick` point every second. */
export const TICK_COLLECTOR = `
  from datakit_framework import DataKitFramework

  class Tick(DataKitFramework):
      interval = 1

      def run(self):
          self.feed_metric(measurement='tick', fields={'v': 1})
`;

/**
 * A collector that counts its ticks: every 0.1 s it reports one metric point
 * (`pythond_seq`, field `n` = the tick number) and one logging point
 * (`pythond_log`), both with a nanosecond time, so every point is told apart
 * by its time. With `objects`, also an object point.
 */
export const SEQ_COLLECTOR = `
  import time
  from datakit_framework import DataKitFramework


  class Seq(DataKitFramework):
      name = 'seq'
      interval = 0.1

      def __init__(self, **kwargs):
          super().__init__(**kwargs)
          self.n = 0

      def run(self):
          self.n += 1
          now = time.time_ns()
          self.report({
              'precision': 'n',
              'M': [{'measurement': 'pythond_seq',
                     'tags': {'host': 'test', 'parity': 'odd' if self.n % 2 else 'even'},
                     'fields': {'n': self.n, 'half': self.n / 2, 'up': True, 'note': 'tick %d' % self.n},
                     'time': now}],
              'L': [{'measurement': 'pythond_log', 'tags': {'host': 'test'}, 'fields': {'message': 'line %d' % self.n}, 'time': now}],
              'O': [{'measurement': 'pythond_host', 'tags': {'name': 'test'}, 'fields': {'ticks': self.n}, 'time': now}] if OBJECTS else None,
          })
`;

/**
 * A temp folder with python.d/seq/seq.py and a pythond.toml that runs it
 * with the process executor (no Docker needed) into `outputs` plus a file
 * output (data/points.jsonl) that records every point collected.
 */
export function seqRunnerTree(
  outputs: string,
  options: { objects?: boolean; shutdownTimeout?: string } = {},
): { root: string; configFile: string; pointsFile: string } {
  const root = tempTree({
    'python.d/seq/seq.py': `OBJECTS = ${options.objects ? 'True' : 'False'}\n${dedent(SEQ_COLLECTOR)}`,
    // TOML does not mind indentation, so the caller's block goes in as it is.
    'pythond.toml': `
      [runner]
      executor = "process"
      listen = "127.0.0.1:0"
      log_level = "warn"
      shutdown_timeout = "${options.shutdownTimeout ?? '10s'}"

      [[inputs.pythond]]
      name = "seq"
      dirs = ["seq"]

      [[outputs.file]]
      path = "data/points.jsonl"
      ${outputs}
    `,
  });
  return { root, configFile: path.join(root, 'pythond.toml'), pointsFile: path.join(root, 'data/points.jsonl') };
}

export interface CollectedPoint {
  category: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  /** ns, as text: beyond 2^53. */
  time: string;
}

/** The points the file output recorded: what was collected, to compare a database with. */
export function collectedPoints(pointsFile: string): CollectedPoint[] {
  let text: string;
  try {
    text = readFileSync(pointsFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line.replace(/"time":(\d+)/, '"time":"$1"')) as CollectedPoint);
}
