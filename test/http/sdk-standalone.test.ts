import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { startApiApp, type WrittenPoint } from '../helpers/api-app.js';
import { exec } from '../helpers/exec.js';
import { REPO_ROOT, waitFor } from '../helpers/fixtures.js';

/** One collector that reports every category, with and without times, through each SDK entry point. */
const PROBE = `
  from datakit_framework import DataKitFramework

  class Probe(DataKitFramework):
      name = 'Probe'
      interval = 1

      def run(self):
          answers = [
              self.feed_metric(measurement='probe_cpu', tags={'host': 'web01'},
                               fields={'usage': 12.5, 'cores': 4, 'ok': True, 'model': 'x "quoted" \\\\ name'},
                               time=1700000000123456789),
              self.feed_logging(source='probe_log', tags={'level': 'info'}, message='hello\\nworld'),
              self.feed_object(cls='probe_host', name='web01', fields={'cpus': 4}),
              self.feed_user_event(df_user_id='u1', tags={'t': '1'}, df_status='info', df_event_id='e1',
                                   df_title='title', df_message='msg', extra=5),
              self.report({
                  'input': 'probe', 'precision': 'ms',
                  'M': [{'measurement': 'probe_ms', 'tags': {'a': 'b'}, 'fields': {'v': -1}, 'time': 1700000000123}],
                  'R': [{'measurement': 'probe_rum', 'fields': {'v': 1}}],
                  'CO': [{'measurement': 'probe_co', 'tags': {'name': 'c1'}, 'fields': {'v': 1}}],
              }),
          ]
          return answers
`;
const POINTS_PER_RUN = 7;

/** What both transports must agree on; time only where the collector set one. */
const comparable = (points: WrittenPoint[]) =>
  points
    .map(({ category, measurement, tags, fields, time }) => ({
      category,
      measurement,
      tags,
      fields,
      time: measurement === 'probe_cpu' || measurement === 'probe_ms' ? time : 'now',
    }))
    .sort((a, b) => a.measurement.localeCompare(b.measurement));

test('the SDK standalone, posting to this server, lands the same points as the runner channel does for the same collector', async () => {
  const files = { 'python.d/probe/probe.py': PROBE };

  // Through the runner channel: the collector runs under the runner, as any collector does.
  const channel = await startApiApp({ dirs: ['probe'], files });
  let viaChannel: WrittenPoint[];
  try {
    viaChannel = (await waitFor(() => (channel.points().length >= POINTS_PER_RUN ? channel.points() : undefined), 'a first run')).slice(0, POINTS_PER_RUN);
  } finally {
    await channel.stop();
  }

  // Standalone: a plain python3 program runs the same class, whose report() POSTs to the write API.
  const server = await startApiApp();
  try {
    const port = new URL(server.url).port;
    const script = [
      'import json, sys',
      `sys.path[:0] = [${JSON.stringify(path.join(REPO_ROOT, 'python.d', 'core'))}, ${JSON.stringify(path.join(channel.root, 'python.d', 'probe'))}]`,
      'import probe',
      `print(json.dumps(probe.Probe(ip='127.0.0.1', port=${port}).run()))`,
    ].join('\n');
    // Asynchronously: the server answering it runs on this thread.
    const run = await exec('python3', ['-c', script], {
      env: { ...process.env, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
    });
    assert.equal(run.stderr, '');
    assert.deepEqual(JSON.parse(run.stdout), ['', '', '', '', ''], 'every POST was answered 200 with an empty body');

    const viaHttp = server.points();
    assert.equal(viaHttp.length, POINTS_PER_RUN);
    assert.deepEqual(comparable(viaHttp), comparable(viaChannel));
  } finally {
    await server.stop();
  }
});
