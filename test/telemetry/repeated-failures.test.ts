import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { InputEvents } from '../../src/telemetry/events/input-events.js';
import { OutputEvents } from '../../src/telemetry/events/output-events.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { REPEAT_LINE_EVERY_MS, RepeatedFailures } from '../../src/telemetry/repeated-failures.js';

/** A logger whose lines land in `lines` as `<level> <message>`. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        const { level, msg } = JSON.parse(line) as { level: number; msg: string };
        lines.push(`${pino.levels.labels[level]} ${msg}`);
      },
    },
  );
  return { log, lines };
}

describe('repeated failures', () => {
  it('says a new failure in full, the same one again at most once a minute with its count, and how many failures a success ends', () => {
    let now = 0;
    const failures = new RepeatedFailures(() => now);
    const said: string[] = [];
    const fail = (at: number, error: string) => {
      now = at;
      const line = failures.failed('a', error);
      said.push(line.say === 'count' ? `count ${line.times}` : line.say);
    };
    fail(0, 'boom');
    fail(10_000, 'boom');
    fail(REPEAT_LINE_EVERY_MS - 1, 'boom');
    fail(REPEAT_LINE_EVERY_MS, 'boom');
    fail(REPEAT_LINE_EVERY_MS + 30_000, 'boom');
    fail(2 * REPEAT_LINE_EVERY_MS + 1, 'boom');
    fail(2 * REPEAT_LINE_EVERY_MS + 2, 'other');
    fail(2 * REPEAT_LINE_EVERY_MS + 3, 'other');
    assert.deepEqual(said, ['full', 'quiet', 'quiet', 'count 4', 'quiet', 'count 6', 'full', 'quiet']);
    assert.equal(failures.succeeded('b'), 0, 'another key was not failing');
    assert.equal(failures.succeeded('a'), 8, 'every failure in a row counts, whatever its error');
    assert.equal(failures.succeeded('a'), 0);
    fail(2 * REPEAT_LINE_EVERY_MS + 4, 'other');
    assert.equal(said.at(-1), 'full', 'after a success the same error is new again');
  });

  it("an output's send failures: the first in full, one line a minute while they repeat, then ok again with the count", () => {
    let now = 0;
    const { log, lines } = capture();
    const events = new OutputEvents('influxdb[0]', log, createMetrics('test'), () => now);
    const points = { points: 2, category: 'metric' };
    for (let attempt = 1; attempt <= 20; attempt++, now += 10_000) events.sendFailed(points, 'connect ECONNREFUSED 127.0.0.1:8428', attempt, 10_000);
    events.sent(2);
    assert.deepEqual(lines, [
      'warn output influxdb[0]: cannot send 2 metric points (attempt 1): connect ECONNREFUSED 127.0.0.1:8428; retrying in 10.0 s',
      'warn output influxdb[0]: cannot send 2 metric points (attempt 7): the same error again, 7 times in a row; retrying in 10.0 s',
      'warn output influxdb[0]: cannot send 2 metric points (attempt 13): the same error again, 13 times in a row; retrying in 10.0 s',
      'warn output influxdb[0]: cannot send 2 metric points (attempt 19): the same error again, 19 times in a row; retrying in 10.0 s',
      'info output influxdb[0] is ok again after 20 failure(s)',
    ]);
  });

  it("a collector's failed ticks: the traceback once, one line a minute while they repeat, then ok again with the count", () => {
    let now = 0;
    const { log, lines } = capture();
    const events = new InputEvents(log, createMetrics('test'), 'demo', () => now);
    for (let tick = 0; tick < 13; tick++, now += 10_000)
      events.tickFailed('x.X', { reason: 'exception', error: 'ValueError: boom', traceback: 'Traceback ...' });
    events.tickOk('x.X');
    assert.deepEqual(lines, [
      'error demo/x.X raised ValueError: boom',
      'error demo/x.X raised ValueError: boom (the same error again, 7 times in a row)',
      'error demo/x.X raised ValueError: boom (the same error again, 13 times in a row)',
      'info demo/x.X is ok again after 13 failed tick(s)',
    ]);
  });
});
