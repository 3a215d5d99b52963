import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickQueue } from '../../src/scheduler/tick-queue.js';
import { TickScheduler, type SkipReason } from '../../src/scheduler/tick-scheduler.js';
import { ManualClock, settle } from '../helpers/manual-clock.js';

interface Entry {
  name: string;
  input: string;
  intervalMs: number;
  service?: boolean;
  /** How long its ticks take, when not the harness's durationMs. */
  runMs?: number;
}

/** A scheduler over a ManualClock whose ticks take `durationMs` of clock time each. */
function harness(options: { concurrency?: number; inputConcurrency?: number; durationMs?: number; random?: () => number } = {}) {
  const clock = new ManualClock();
  const queue = new TickQueue({ concurrency: options.concurrency ?? 8 });
  const started: { name: string; at: number; due: number }[] = [];
  const skipped: { name: string; reason: SkipReason; count: number }[] = [];
  const lateness: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const runningPerInput = new Map<string, number>();
  let maxPerInput = 0;
  const durationMs = options.durationMs ?? 0;

  const scheduler = new TickScheduler<Entry>({
    queue,
    clock,
    random: options.random ?? (() => 0),
    run: async (entry, due) => {
      started.push({ name: entry.name, at: clock.now(), due });
      running++;
      maxRunning = Math.max(maxRunning, running);
      const n = (runningPerInput.get(entry.input) ?? 0) + 1;
      runningPerInput.set(entry.input, n);
      maxPerInput = Math.max(maxPerInput, n);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, entry.runMs ?? durationMs));
      running--;
      runningPerInput.set(entry.input, runningPerInput.get(entry.input)! - 1);
    },
    skipped: (entry, reason, count) => skipped.push({ name: entry.name, reason, count }),
    started: (_, ms) => lateness.push(ms),
  });
  const add = (name: string, intervalMs: number, input = 'in', concurrency = options.inputConcurrency ?? 100, more: Partial<Entry> = {}) => {
    try {
      queue.setInput(input, concurrency);
    } catch {
      // already added
    }
    scheduler.add({ name, input, intervalMs, ...more });
  };
  return { clock, queue, scheduler, started, skipped, lateness, add, maxRunning: () => maxRunning, maxPerInput: () => maxPerInput };
}

const count = (items: { name: string }[], name: string) => items.filter((i) => i.name === name).length;

describe('TickScheduler', () => {
  it('ticks each collector at a fixed rate, on the grid of its first tick', async () => {
    const h = harness({ random: () => 0.5, durationMs: 300 });
    h.add('a', 1000);
    await h.clock.advance(5_000);
    assert.deepEqual(
      h.started.map((s) => s.at),
      [500, 1500, 2500, 3500, 4500],
      'a 300 ms tick does not push the next one back',
    );
  });

  it('spreads first ticks over one interval, never beyond it', async () => {
    const values = [0, 0.25, 0.999];
    const h = harness({ random: () => values.shift()! });
    h.add('a', 10_000);
    h.add('b', 10_000);
    h.add('c', 10_000);
    await h.clock.advance(9_999);
    assert.deepEqual(
      h.started.map((s) => [s.name, s.at]),
      [
        ['a', 0],
        ['b', 2500],
        ['c', 9990],
      ],
    );
  });

  it('starts a collector with a long interval within 10 s, then keeps its interval', async () => {
    const h = harness({ random: () => 0.999 });
    h.add('hourly', 3_600_000);
    await h.clock.advance(10_000);
    assert.deepEqual(
      h.started.map((s) => Math.round(s.at)),
      [9990],
    );
    await h.clock.advance(3_600_000);
    assert.deepEqual(
      h.started.map((s) => Math.round(s.at)),
      [9990, 3_609_990],
    );
  });

  it('never runs two ticks of one collector at once: a tick due while one runs is skipped as overlap', async () => {
    const h = harness({ durationMs: 2_500 });
    h.add('slow', 1000);
    await h.clock.advance(6_000);
    // runs start at 0, 3000 (the ticks at 1000 and 2000 found it running), 6000 ...
    assert.deepEqual(
      h.started.map((s) => s.at),
      [0, 3000, 6000],
    );
    assert.equal(h.maxRunning(), 1);
    assert.deepEqual(
      h.skipped.map((s) => [s.reason, s.count]),
      [
        ['overlap', 1],
        ['overlap', 1],
        ['overlap', 1],
        ['overlap', 1],
      ],
    );
  });

  it('skips a tick as late while the previous one still waits for a concurrency slot', async () => {
    const h = harness({ concurrency: 1, durationMs: 1_500 });
    h.add('hog', 10_000); // runs 0..1500
    h.add('b', 500); // due 0, waits until 1500
    await h.clock.advance(1_000);
    assert.ok(
      h.skipped.some((s) => s.name === 'b' && s.reason === 'late'),
      'b at 500 found its tick at 0 still queued',
    );
    assert.equal(h.queue.waiting, 1, 'never more than one queued tick per collector');
  });

  it('records how late a queued tick started', async () => {
    const h = harness({ concurrency: 1, durationMs: 1_500, random: () => 0.1 });
    h.add('hog', 10_000); // due at 1000, runs until 2500
    h.add('b', 10_000); // due at 1000 too
    await h.clock.advance(3_000);
    assert.deepEqual(h.lateness, [0, 1500]);
  });

  it('holds the runner-wide concurrency limit with slow collectors', async () => {
    const h = harness({ concurrency: 3, durationMs: 5_000 });
    for (let i = 0; i < 10; i++) h.add(`c${i}`, 1000, `input${i}`);
    await h.clock.advance(20_000);
    assert.equal(h.maxRunning(), 3);
    assert.ok(h.started.length >= 12, `${h.started.length} ticks ran`);
  });

  it("holds each input's concurrency limit", async () => {
    const h = harness({ concurrency: 10, inputConcurrency: 2, durationMs: 5_000 });
    for (let i = 0; i < 6; i++) h.add(`c${i}`, 1000, 'shared');
    await h.clock.advance(20_000);
    assert.equal(h.maxPerInput(), 2);
  });

  // The timer of the tick due at 2000 fires `jumpMs` late; the ticks whose time fully passed are lost.
  const blockedLoops: { jumpMs: number; lost: number; due: number }[] = [
    { jumpMs: 2_500, lost: 1, due: 3000 },
    { jumpMs: 3_500, lost: 2, due: 4000 },
  ];
  for (const { jumpMs, lost, due } of blockedLoops) {
    it(`counts ${lost} tick(s) a blocked event loop made it miss as late, and stays on its grid`, async () => {
      const h = harness();
      h.add('a', 1000);
      await h.clock.advance(1_000); // ticks at 0 and 1000
      h.clock.jump(jumpMs);
      await h.clock.advance(0);
      assert.deepEqual(h.skipped, [{ name: 'a', reason: 'late', count: lost }]);
      assert.equal(h.started.at(-1)!.due, due, `the tick due at ${due} runs`);
      await h.clock.advance(due + 1000 - h.clock.now());
      assert.equal(h.started.at(-1)!.at, due + 1000, 'the next one is back on the grid');
    });
  }

  it('starts no tick for a collector added after stop() (an input that finished starting during shutdown)', async () => {
    const h = harness();
    h.scheduler.stop();
    h.add('late', 1000);
    await h.clock.advance(5_000);
    assert.deepEqual(h.started, []);
  });

  it('needs no more than a queue, run and skipped', async () => {
    const clock = new ManualClock();
    const queue = new TickQueue({ concurrency: 1 });
    queue.setInput('in', 1);
    const due: number[] = [];
    const scheduler = new TickScheduler<Entry>({ queue, clock, random: () => 0, run: async (_, dueAt) => void due.push(dueAt), skipped: () => {} });
    scheduler.add({ name: 'a', input: 'in', intervalMs: 1000 });
    await clock.advance(2_000);
    assert.deepEqual(due, [0, 1000, 2000]);
  });

  it('starts a service once and counts nothing while it runs, late timers included', async () => {
    const h = harness();
    h.add('service', 1000, 'in', 1, { service: true, runMs: 1_000_000 });
    await h.clock.advance(5_000);
    h.clock.jump(3_500); // a blocked event loop
    await h.clock.advance(5_000);
    assert.deepEqual(
      h.started.map((s) => s.at),
      [0],
    );
    assert.deepEqual(h.skipped, [], 'no overlap, no late');
  });

  it('starts a service again at its first due time after it ended', async () => {
    const h = harness();
    h.add('service', 1000, 'in', 1, { service: true, runMs: 2_500 });
    await h.clock.advance(6_000);
    assert.deepEqual(
      h.started.map((s) => s.at),
      [0, 3000, 6000],
    );
    assert.deepEqual(h.skipped, []);
  });

  it('takes no concurrency slot for a service, which would hold it for good', async () => {
    const h = harness({ concurrency: 1 });
    h.add('service', 1000, 'in', 1, { service: true, runMs: 1_000_000 });
    h.add('b', 1000, 'in', 1, { runMs: 100 });
    await h.clock.advance(3_000);
    assert.deepEqual(
      h.started.filter((s) => s.name === 'b').map((s) => s.at),
      [0, 1000, 2000, 3000],
      'the input and runner limits of 1 are left to the other collector',
    );
    assert.deepEqual(h.skipped, []);
  });

  it('starts the due tick once the running one that overrun() stops has ended; a tick due meanwhile is skipped', async () => {
    const clock = new ManualClock();
    const queue = new TickQueue({ concurrency: 8 });
    queue.setInput('in', 1);
    const started: number[] = [];
    const skipped: SkipReason[] = [];
    let end: (() => void) | undefined;
    const scheduler = new TickScheduler<Entry>({
      queue,
      clock,
      random: () => 0,
      run: async () => {
        started.push(clock.now());
        await new Promise<void>((resolve) => (end = resolve));
      },
      skipped: (_, reason) => skipped.push(reason),
      // Stopping a tick takes 1.5 s (a host being killed).
      overrun: () => {
        clock.setTimeout(() => end!(), 1500);
        return true;
      },
    });
    scheduler.add({ name: 'slow', input: 'in', intervalMs: 1000 });
    await clock.advance(3_000);
    // 0: runs; 1000: due while it runs, so stopped; 2000: due while it is being stopped: skipped; 2500: stopped, the tick due at 1000 runs; 3000: due while it runs, so stopped.
    assert.deepEqual(started, [0, 2500]);
    assert.deepEqual(skipped, ['overlap']);
  });

  it('starts no tick after stop()', async () => {
    const h = harness();
    h.add('a', 1000);
    await h.clock.advance(1_500);
    const before = h.started.length;
    h.scheduler.stop();
    await h.clock.advance(10_000);
    await settle();
    assert.equal(h.started.length, before);
    assert.equal(count(h.started, 'a'), 2);
  });
});
