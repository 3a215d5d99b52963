import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { RunOptions } from '../../src/hosts/host-mode.js';
import { tickExit, type TickOutcome } from '../../src/inputs/tick-outcome.js';
import { TickRun, type RunLimits } from '../../src/inputs/tick-run.js';
import type { EncodedBatch } from '../../src/points/point.js';
import { PointPipeline } from '../../src/points/pipeline.js';
import { HostFailure } from '../../src/protocol/host-failure.js';
import type { RunSink } from '../../src/protocol/host-session.js';
import type { DoneMessage } from '../../src/protocol/messages.js';
import { InputEvents } from '../../src/telemetry/events/input-events.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { waitFor, within } from '../helpers/fixtures.js';
import { metricValue } from '../helpers/input-harness.js';
import { ManualClock, settle } from '../helpers/manual-clock.js';

const pipeline = new PointPipeline({ workers: 2, encodings: () => ['jsonl'] });
after(() => pipeline.close());

/**
 * The host's side of the HostMode run contract, played by the test: it has
 * the run once the test calls `running()`, then reports, logs and answers as
 * told. An abort kills it: the run fails with the abort's reason, as a real
 * mode's does.
 */
class FakeHost {
  #run: { sink: RunSink; options: RunOptions; signal: AbortSignal; resolve: (done: DoneMessage) => void; reject: (err: unknown) => void } | undefined;

  run(_collectorId: string, sink: RunSink, signal: AbortSignal, options: RunOptions = {}): Promise<DoneMessage> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.#run = { sink, options, signal, resolve, reject };
    });
  }

  get #current() {
    assert.ok(this.#run, 'the run was handed to the host');
    return this.#run;
  }

  /** The host has the run (a real mode says so once it has sent the request). */
  running(): void {
    this.#current.options.running?.();
  }

  get options(): RunOptions {
    return this.#current.options;
  }

  /** Whether the run told the host to stop (a real mode kills it then). */
  get aborted(): boolean {
    return this.#current.signal.aborted;
  }

  /** Sends a report of metric `points` as the host's protocol line; settles when the run may read on (at once, or once the report is decoded). */
  report(points: unknown[]): Promise<void> {
    const line = Buffer.from(JSON.stringify({ type: 'report', id: '1', collector: 'c.C', data: { M: points } }));
    return within(Promise.resolve(this.#current.sink.report(line)), 10_000, 'the run to read on');
  }

  log(stream: 'stdout' | 'stderr', text: string): void {
    this.#current.sink.log({ type: 'log', id: '1', collector: 'c.C', stream, text });
  }

  stderr(bytes: number): void {
    this.#current.sink.stderr(bytes);
  }

  done(answer: Partial<DoneMessage> = {}): void {
    this.#current.resolve({ type: 'done', id: '1', status: 'ok', run_ms: 5, ...answer });
  }

  fail(err: unknown): void {
    this.#current.reject(err);
  }
}

const points = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ measurement: 'm', fields: { i: from + i } }));

/**
 * A TickRun of collector c.C (interval `intervalS`) of input `test` on a
 * manual clock and a FakeHost, started; `limits` over generous defaults. Its
 * outputs keep what they are given at once, or once `held` settles.
 */
function startRun(limits: Partial<RunLimits> = {}, intervalS = 10, held?: Promise<void>) {
  const metrics = createMetrics('test');
  const logged: { level: number; msg: string; stream?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const clock = new ManualClock();
  const delivered: EncodedBatch[] = [];
  const run = new TickRun({
    input: 'test',
    collector: { id: 'c.C', name: 'C', module: 'c', file: 'c.py', interval: intervalS },
    limits: { timeout: undefined, max_points: 1000, max_report_size: 1024 ** 2, max_stderr: 1024 ** 2, tags: {}, globalTags: {}, ...limits },
    pipeline,
    outputs: {
      deliver: async (batches) => {
        delivered.push(...batches);
        await held;
        return [];
      },
    },
    metrics,
    events: new InputEvents(log, metrics, 'test'),
    clock,
  });
  const host = new FakeHost();
  const outcome = run.on(host);
  const deliveredPoints = () => delivered.reduce((n, batch) => n + batch.points, 0);
  const ended = () => within(outcome, 10_000, 'the run to end');
  return { run, host, clock, outcome, ended, deliveredPoints, logged, metrics };
}

/** Whether `promise` has settled once pending callbacks have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

/** The parts of an outcome a test states. */
const shape = (outcome: TickOutcome) => ({ status: outcome.status, reason: outcome.reason, error: outcome.error, exit: tickExit(outcome) });

describe('a tick run, on a manual clock', () => {
  it('delivers its points, counts them, and ends ok with what the host measured', async () => {
    const { host, ended, deliveredPoints, metrics } = startRun();
    host.running();
    await host.report(points(3));
    host.done({ run_ms: 7, usage: { cpu_ms: 2, peak_bytes: 1024 } });
    const outcome = await ended();
    assert.deepEqual(
      { status: outcome.status, points: outcome.points, runMs: outcome.runMs, usage: outcome.usage },
      { status: 'ok', points: 3, runMs: 7, usage: { cpuSeconds: 0.002, peakMemoryBytes: 1024 } },
    );
    assert.ok(outcome.reportBytes > 0);
    assert.equal(deliveredPoints(), 3);
    assert.equal(await metricValue(metrics, 'pythond_points_total', { input: 'test', category: 'metric' }), 3);
  });

  it('times out exactly `timeout` after its host has the run, not counting the wait for the host before', async () => {
    const { host, clock, outcome, ended } = startRun({ timeout: 2_000 });
    await clock.advance(5_000); // a host starting (fresh mode): bounded apart
    assert.equal(await hasSettled(outcome), false, 'no timeout before the host has the run');
    host.running();
    await clock.advance(1_999);
    assert.equal(await hasSettled(outcome), false, 'still within its timeout');
    await clock.advance(1);
    assert.deepEqual(shape(await ended()), { status: 'timeout', reason: 'timeout', error: 'still running after 2 s (timeout)', exit: 'timeout' });
    assert.ok(host.aborted, 'its host is told to stop (killed)');
  });

  it('times out after its interval when the input sets no timeout', async () => {
    const { host, clock, outcome, ended } = startRun({}, 10);
    host.running();
    await clock.advance(9_999);
    assert.equal(await hasSettled(outcome), false);
    await clock.advance(1);
    assert.equal((await ended()).error, 'still running after 10 s (timeout)');
  });

  const bounds: [string, Partial<RunLimits>, (host: FakeHost) => void, string][] = [
    ['max_points', { max_points: 2 }, (host) => void host.report(points(3)), 'reported more than 2 points in one tick (max_points)'],
    [
      'max_report_size',
      { max_report_size: 1024 },
      (host) => void host.report([{ measurement: 'm', fields: { blob: 'x'.repeat(1024) } }]),
      'reported more than 1 KiB in one tick (max_report_size)',
    ],
    [
      'max_stderr',
      { max_stderr: 1024 },
      (host) => {
        host.log('stdout', 'a'.repeat(600));
        host.log('stdout', 'b'.repeat(600));
      },
      'wrote more than 1 KiB of output in one tick (max_stderr)',
    ],
    ['max_stderr (raw stderr bytes)', { max_stderr: 1024 }, (host) => host.stderr(1025), 'wrote more than 1 KiB of output in one tick (max_stderr)'],
  ];
  for (const [bound, limits, cross, message] of bounds) {
    it(`fails a tick that crosses ${bound}, stopping its host while it still runs`, async () => {
      const { host, ended, deliveredPoints } = startRun(limits);
      host.running();
      cross(host);
      const outcome = await ended();
      assert.deepEqual(shape(outcome), { status: 'error', reason: bound.split(' ')[0], error: message, exit: 'limit' });
      assert.ok(host.aborted, 'its host is told to stop (killed)');
      assert.equal(deliveredPoints(), 0, 'nothing past the bound is delivered');
    });
  }

  it('logs what the collector writes (stdout at info, stderr at warn) and counts the lines, up to max_stderr', async () => {
    const { host, ended, logged, metrics } = startRun({ max_stderr: 1024 });
    host.running();
    host.log('stdout', 'hello');
    host.log('stderr', 'careful');
    host.log('stderr', 'x'.repeat(1100)); // past max_stderr: not logged, and the run fails
    await ended();
    assert.deepEqual(
      logged.map(({ level, msg, stream }) => ({ level, msg, stream })),
      [
        { level: 30, msg: 'hello', stream: 'stdout' },
        { level: 40, msg: 'careful', stream: 'stderr' },
      ],
    );
    const lines = (stream: string) => metricValue(metrics, 'pythond_collector_output_lines_total', { input: 'test', collector: 'c.C', stream });
    assert.deepEqual([await lines('stdout'), await lines('stderr')], [1, 1]);
  });

  it("holds a service's bounds per interval: they start again each interval, and it never times out", async () => {
    const { host, clock, outcome, ended, deliveredPoints } = startRun({ timeout: 0, max_points: 2, max_stderr: 1024 }, 1);
    assert.equal(host.options.healthyAfterMs, 1_000, 'healthy after an interval: a later death restarts it without backoff');
    host.running();
    await host.report(points(2));
    host.stderr(1000);
    await waitFor(() => deliveredPoints() === 2, 'the first interval’s points');
    await clock.advance(1_000);
    await host.report(points(2, 2));
    host.stderr(1000);
    await waitFor(() => deliveredPoints() === 4, 'the second interval’s points');
    await clock.advance(60_000);
    assert.equal(await hasSettled(outcome), false, 'still running: no timeout, no bound crossed');
    void host.report(points(3, 4));
    const ending = await ended();
    assert.deepEqual(shape(ending), {
      status: 'error',
      reason: 'max_points',
      error: 'reported more than 2 points in one interval (max_points)',
      exit: 'limit',
    });
    assert.equal(ending.points, 4);
  });

  it('ends a tick stopped by overlap = "kill" with reason overlap', async () => {
    const { run, host, ended } = startRun();
    host.running();
    run.stop('overlap', 'still running when its next tick was due (overlap = "kill")');
    assert.deepEqual(shape(await ended()), {
      status: 'error',
      reason: 'overlap',
      error: 'still running when its next tick was due (overlap = "kill")',
      exit: 'killed',
    });
    assert.ok(host.aborted);
  });

  it('ignores a stop that comes once its host is done, while its reports are still on their way', async () => {
    let release!: () => void;
    const { run, host, outcome, ended, deliveredPoints } = startRun({}, 10, new Promise((resolve) => (release = resolve)));
    host.running();
    void host.report(points(1));
    host.done();
    await waitFor(() => deliveredPoints() === 1, 'the point handed to the outputs');
    assert.equal(await hasSettled(outcome), false, 'its point is still being delivered');
    run.stop('overlap', 'too late');
    release();
    assert.equal((await ended()).status, 'ok');
  });

  it('counts a service stopped at shutdown as a run that went well', async () => {
    const { run, host, ended, deliveredPoints } = startRun({ timeout: 0 }, 1);
    host.running();
    await host.report(points(1));
    await waitFor(() => deliveredPoints() === 1, 'the point delivered');
    run.stop('shutdown', 'pythond is shutting down');
    const outcome = await ended();
    assert.deepEqual({ status: outcome.status, reason: outcome.reason, points: outcome.points }, { status: 'ok', reason: undefined, points: 1 });
  });

  it('delivers the valid points of a report and fails the tick with invalid_points, naming the dropped ones', async () => {
    const { host, ended, deliveredPoints, metrics, logged } = startRun();
    host.running();
    await host.report([{ measurement: 'm', fields: {} }, ...points(1)]);
    host.done();
    const outcome = await ended();
    assert.deepEqual({ status: outcome.status, reason: outcome.reason, exit: tickExit(outcome) }, { status: 'error', reason: 'invalid_points', exit: 'error' });
    assert.match(outcome.error!, /^1 invalid point\(s\) dropped: M\[0\]: fields must have at least one field/);
    assert.equal(deliveredPoints(), 1);
    assert.equal(await metricValue(metrics, 'pythond_points_invalid_total', { input: 'test' }), 1);
    assert.deepEqual(logged, [], "a tick's outcome says it, once the input logs it");
  });

  it('logs the invalid points of a service at once, since its outcome may never come', async () => {
    const { run, host, ended, logged, metrics } = startRun({ timeout: 0 }, 1);
    host.running();
    await host.report([{ measurement: '', fields: { a: 1 } }]);
    await waitFor(() => logged.length === 1, 'the invalid point logged');
    assert.equal(logged[0]!.level, 40);
    assert.match(logged[0]!.msg, /^test\/c\.C: 1 invalid point\(s\) dropped: M\[0\]: measurement must not be empty/);
    assert.equal(await metricValue(metrics, 'pythond_points_invalid_total', { input: 'test' }), 1);
    run.stop('shutdown', 'pythond is shutting down');
    await ended();
  });

  it('ends with reason exception, and the traceback, when run() raised', async () => {
    const { host, ended } = startRun();
    host.running();
    host.done({ status: 'error', error: 'ValueError: boom', traceback: 'Traceback (most recent call last):\n  File "c.py", line 3\nValueError: boom' });
    const outcome = await ended();
    assert.deepEqual(shape(outcome), { status: 'error', reason: 'exception', error: 'ValueError: boom', exit: 'error' });
    assert.match(outcome.traceback!, /File "c\.py", line 3/);
  });

  it("ends with its host's failure, or host_start when its host could not start", async () => {
    const died = startRun();
    died.host.running();
    died.host.fail(new HostFailure('exit 1', 'collector host 1 exited with code 1'));
    assert.deepEqual(shape(await died.ended()), { status: 'error', reason: 'exit 1', error: 'collector host 1 exited with code 1', exit: 'error' });

    const unstarted = startRun();
    unstarted.host.fail(new Error('the engine refuses'));
    assert.deepEqual(shape(await unstarted.ended()), { status: 'error', reason: 'host_start', error: 'the engine refuses', exit: 'error' });
  });
});
