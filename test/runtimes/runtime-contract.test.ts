import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireDocker } from '../helpers/docker.js';
import { waitFor, within } from '../helpers/fixtures.js';
import { metricValue, startInput } from '../helpers/input-harness.js';
import { COLLECTORS, LIMITS } from './collectors.js';

/**
 * What every runtime (each `[runner] executor`) must do, run against the
 * real thing: python3 processes, and Docker containers (skipped locally
 * without an engine, required in CI).
 */
for (const executor of ['process', 'docker'] as const) {
  describe(`${executor} executor`, () => {
    const start = async (t: import('node:test').TestContext, mode: 'warm' | 'fresh' = 'warm') => {
      if (executor === 'docker' && !(await requireDocker(t))) return undefined;
      return startInput({ executor, files: COLLECTORS, inputToml: `mode = "${mode}"\n${LIMITS}` });
    };

    it('loads every collector of the input and names it <module>.<Class>', async (t) => {
      const h = await start(t);
      if (!h) return;
      assert.deepEqual(
        h.input.collectors.map((c) => c.id),
        [
          'big.Big',
          'boom.Boom',
          'chatty.Chatty',
          'crash.Crash',
          'crash.CrashAgain',
          'flood.Flood',
          'garbage.Garbage',
          'many.Many',
          'segv.Segv',
          'sleepy.Sleepy',
          'state.Counter',
        ],
      );
    });

    it("keeps a collector's state across ticks in warm mode", async (t) => {
      const h = await start(t, 'warm');
      if (!h) return;
      await h.tick('state.Counter');
      await h.tick('state.Counter');
      assert.deepEqual(
        h.output.points.map((p) => p.fields.n),
        [1, 2],
      );
      assert.equal(h.output.points[0]!.tags.host, h.output.points[1]!.tags.host, 'the same host both times');
    });

    it('starts every tick clean in fresh mode', async (t) => {
      const h = await start(t, 'fresh');
      if (!h) return;
      assert.equal((await h.tick('state.Counter')).status, 'ok');
      assert.equal((await h.tick('state.Counter')).status, 'ok');
      assert.deepEqual(
        h.output.points.map((p) => p.fields.n),
        [1, 1],
      );
      assert.notEqual(h.output.points[0]!.tags.host, h.output.points[1]!.tags.host, 'a new host each tick');
    });

    it('keeps the protocol intact whatever a collector prints, and what its children print', async (t) => {
      const h = await start(t);
      if (!h) return;
      const outcome = await h.tick('chatty.Chatty');
      assert.equal(outcome.status, 'ok', outcome.error);
      assert.deepEqual(
        h.output.points.map((p) => p.measurement),
        ['chatty'],
      );
    });

    it('fails a tick whose run() raises, with the exception, and keeps the host', async (t) => {
      const h = await start(t);
      if (!h) return;
      const outcome = await h.tick('boom.Boom');
      assert.equal(outcome.status, 'error');
      assert.equal(outcome.reason, 'exception');
      assert.match(outcome.error!, /ValueError: collector exploded/);
      await h.tick('state.Counter');
      await h.tick('boom.Boom');
      await h.tick('state.Counter');
      assert.deepEqual(
        h.output.points.map((p) => p.fields.n),
        [1, 2],
        'the same host, state intact',
      );
    });

    it('times out a tick past its timeout, kills the host and starts a new one at the next tick', async (t) => {
      const h = await start(t);
      if (!h) return;
      await h.tick('state.Counter');
      // run() sleeps for an hour: the tick must end at its timeout, not when run() returns.
      const outcome = await within(h.tick('sleepy.Sleepy'), 60_000, 'the tick to end at its 3 s timeout');
      assert.equal(outcome.status, 'timeout');
      assert.match(outcome.error!, /still running after 3 s \(timeout\)/);
      assert.equal((await h.tick('state.Counter')).status, 'ok');
      assert.deepEqual(
        h.output.points.map((p) => p.fields.n),
        [1, 1],
        'state is gone: a new host',
      );
      assert.equal(await metricValue(h.metrics, 'pythond_container_restarts_total', { input: 'test', reason: 'timeout' }), 1);
      assert.equal(await metricValue(h.metrics, 'pythond_ticks_total', { collector: 'sleepy.Sleepy', status: 'timeout' }), 1);
    });

    it('reports a host that exits during a tick with its exit code', async (t) => {
      const h = await start(t);
      if (!h) return;
      const outcome = await h.tick('crash.Crash');
      assert.equal(outcome.status, 'error');
      assert.equal(outcome.reason, 'exit 3');
      assert.equal((await h.tick('state.Counter')).status, 'ok', 'a new host at the next tick');
    });

    it('reports a segfault', async (t) => {
      const h = await start(t);
      if (!h) return;
      const outcome = await h.tick('segv.Segv');
      assert.equal(outcome.status, 'error');
      assert.equal(outcome.reason, executor === 'docker' ? 'exit 139' : 'signal SIGSEGV');
    });

    it('backs off from a host that keeps failing, and recovers after a good tick', async (t) => {
      const h = await start(t);
      if (!h) return;
      assert.equal((await h.tick('crash.Crash')).reason, 'exit 3');
      // The collector that failed waits out its own backoff (interval × 1) before it runs again.
      const again = await h.tick('crash.Crash');
      assert.deepEqual([again.status, again.reason], ['skipped', 'backoff']);
      assert.equal((await h.tick('crash.CrashAgain')).reason, 'exit 3', 'the first failure restarts the host at once');
      const skipped = await h.tick('state.Counter');
      assert.deepEqual([skipped.status, skipped.reason], ['skipped', 'backoff'], 'the second failure in a row backs off');
      // Ticks are skipped until the pause (1 s) is over; then the host starts again.
      const after = await waitFor(async () => {
        const outcome = await h.tick('state.Counter');
        return outcome.status === 'skipped' ? undefined : outcome;
      }, 'a tick after the backoff pause');
      assert.equal(after.status, 'ok', after.error);
    });

    const limits: [string, string, RegExp][] = [
      ['flood.Flood', 'max_stderr', /wrote more than 256 KiB of output in one tick \(max_stderr\)/],
      ['many.Many', 'max_points', /reported more than 1000 points in one tick \(max_points\)/],
      ['big.Big', 'max_report_size', /larger than max_report_size|more than 1 MiB in one tick/],
      ['garbage.Garbage', 'protocol', /broke the protocol/],
    ];
    for (const [collector, reason, message] of limits) {
      it(`fails a tick that crosses ${reason}, and the host recovers`, async (t) => {
        const h = await start(t);
        if (!h) return;
        const outcome = await h.tick(collector);
        assert.equal(outcome.status, 'error');
        assert.equal(outcome.reason, reason);
        assert.match(outcome.error!, message);
        assert.equal((await h.tick('state.Counter')).status, 'ok');
      });
    }
  });
}
