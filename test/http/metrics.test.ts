import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test, type TestContext } from 'node:test';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { startApiApp, type ApiApp } from '../helpers/api-app.js';
import { waitFor } from '../helpers/fixtures.js';
import { markdownTable, unquoted } from '../helpers/markdown.js';
import { cannotRun } from '../helpers/required.js';

const TICKER = `
  from datakit_framework import DataKitFramework

  class Ticker(DataKitFramework):
      name = 'Ticker'
      interval = 1

      def run(self):
          return self.report({
              'M': [{'measurement': 'tick', 'fields': {'v': 1}}, {'measurement': 'tick', 'fields': {'v': 2}}],
              'L': [{'measurement': 'tick_log', 'fields': {'message': 'ticked'}}],
          })
`;

/** The sum of a family's samples whose labels include `labels`. */
function sum(families: MetricFamily[], name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  return (family?.metrics ?? [])
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((total, sample) => total + Number(sample.value), 0);
}

/**
 * promtool's own parser and linter; CI installs it (Debian's prometheus),
 * elsewhere the check is skipped when it is missing.
 */
function promtoolCheck(t: TestContext, text: string): { status: number; problems: string[] } | undefined {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    cannotRun(t, 'needs promtool (apt-get install prometheus)');
    return undefined;
  }
  return { status: run.status ?? -1, problems: `${run.stdout}${run.stderr}`.split('\n').filter(Boolean) };
}

describe('GET /metrics', () => {
  let api: ApiApp;
  const scrape = async (): Promise<{ text: string; families: MetricFamily[] }> => {
    const response = await fetch(`${api.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    return { text, families: parsePrometheusTextFormat(text) };
  };
  const okTicks = (families: MetricFamily[]) => sum(families, 'pythond_ticks_total', { input: 'test', collector: 'ticker.Ticker', status: 'ok' });

  before(async () => {
    api = await startApiApp({ dirs: ['ticker'], files: { 'python.d/ticker/ticker.py': TICKER } });
  });
  after(() => api.stop());

  test('is valid exposition text by promtool, and tick and point counters move between two scrapes while collectors run', async (t) => {
    const first = await waitFor(async () => {
      const scraped = await scrape();
      return okTicks(scraped.families) >= 1 ? scraped : undefined;
    }, 'a first ok tick');
    const second = await waitFor(async () => {
      const scraped = await scrape();
      return okTicks(scraped.families) > okTicks(first.families) ? scraped : undefined;
    }, 'another ok tick');

    const points = (families: MetricFamily[], category: string) => sum(families, 'pythond_points_total', { input: 'test', category });
    assert.ok(points(second.families, 'metric') > points(first.families, 'metric'), 'metric points moved');
    assert.ok(points(second.families, 'logging') > points(first.families, 'logging'), 'logging points moved');
    assert.equal(points(second.families, 'metric'), 2 * okTicks(second.families), 'two metric points per ok tick');
    assert.ok(
      sum(second.families, 'pythond_output_points_total', { output: 'file[0]', status: 'sent' }) >
        sum(first.families, 'pythond_output_points_total', { output: 'file[0]', status: 'sent' }),
    );

    const lint = promtoolCheck(t, second.text);
    if (lint) {
      assert.deepEqual(lint.problems, []);
      assert.equal(lint.status, 0);
    }
  });

  test('shows every self-metric pythond declares, with its type, and the build info', async () => {
    const { families } = await scrape();
    const byName = new Map(families.map((family) => [family.name, family]));
    const { registry, ...declared } = createMetrics('test');
    void registry;
    for (const metric of Object.values(declared)) {
      const name = (metric as unknown as { name: string }).name;
      assert.ok(byName.has(name), `${name} is on /metrics`);
    }
    assert.equal(byName.get('pythond_tick_duration_seconds')!.type, 'HISTOGRAM');
    assert.equal(byName.get('pythond_ticks_total')!.type, 'COUNTER');
    assert.equal(sum(families, 'pythond_build_info', {}), 1);
    assert.ok(byName.has('process_cpu_user_seconds_total'), 'default process metrics are there');
  });

  test("are each documented in the HTTP API's README, and nothing else is", () => {
    const { registry, ...declared } = createMetrics('test');
    void registry;
    const names = Object.values(declared).map((metric) => (metric as unknown as { name: string }).name);
    const documented = markdownTable('src/http/README.md', '`GET /metrics`').map(([name]) => unquoted(name!));
    assert.deepEqual([...documented].sort(), [...names].sort());
  });
});
