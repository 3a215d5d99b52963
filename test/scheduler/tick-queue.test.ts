import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TickQueue } from '../../src/scheduler/tick-queue.js';
import { settle } from '../helpers/manual-clock.js';

/** A task that runs until the test releases it, telling when it started. */
function gate() {
  let release!: () => void;
  let started = false;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    task: async () => {
      started = true;
      await done;
    },
    started: () => started,
    release: () => release(),
  };
}

describe('TickQueue', () => {
  it("holds an input's limit: a tick of that input waits while its slots are taken, another input's does not", async () => {
    const queue = new TickQueue({ concurrency: 8 });
    queue.setInput('a', 1);
    queue.setInput('b', 1);
    const [a1, a2, b1] = [gate(), gate(), gate()];
    const settled = [queue.add('a', a1.task), queue.add('a', a2.task), queue.add('b', b1.task)];
    await settle();
    assert.deepEqual([a1.started(), a2.started(), b1.started()], [true, false, true]);
    a1.release();
    await settle();
    assert.equal(a2.started(), true, 'the second tick of a starts once the first is done');
    a2.release();
    b1.release();
    await Promise.all(settled);
  });

  it("holds the runner's limit over every input", async () => {
    const queue = new TickQueue({ concurrency: 2 });
    for (const input of ['a', 'b', 'c']) queue.setInput(input, 5);
    const gates = [gate(), gate(), gate()];
    const settled = gates.map((g, i) => queue.add(['a', 'b', 'c'][i]!, g.task));
    await settle();
    assert.deepEqual(
      gates.map((g) => g.started()),
      [true, true, false],
    );
    gates[0]!.release();
    await settle();
    assert.equal(gates[2]!.started(), true);
    for (const g of gates) g.release();
    await Promise.all(settled);
  });

  it('counts ticks waiting and running, and tells every change', async () => {
    const changes: [number, number][] = [];
    const queue = new TickQueue({ concurrency: 1, onChange: (waiting, running) => changes.push([waiting, running]) });
    queue.setInput('a', 2);
    const [first, second] = [gate(), gate()];
    const settled = [queue.add('a', first.task), queue.add('a', second.task)];
    await settle();
    assert.deepEqual([queue.waiting, queue.running], [1, 1]);
    first.release();
    second.release();
    await Promise.all(settled);
    assert.deepEqual([queue.waiting, queue.running], [0, 0]);
    // [waiting, running]: the first starts at once, the second waits for the runner's one slot.
    assert.deepEqual(changes, [
      [1, 0],
      [0, 1],
      [1, 1],
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
  });

  it('frees the slot of a tick that throws, and settles with its error', async () => {
    const queue = new TickQueue({ concurrency: 1 });
    queue.setInput('a', 1);
    await assert.rejects(
      queue.add('a', async () => {
        throw new Error('tick failed');
      }),
      /tick failed/,
    );
    assert.deepEqual([queue.waiting, queue.running], [0, 0]);
    let ran = false;
    await queue.add('a', async () => {
      ran = true;
    });
    assert.equal(ran, true);
  });

  it('refuses a tick of an input it was not given', () => {
    const queue = new TickQueue({ concurrency: 1 });
    assert.throws(() => queue.add('nowhere', async () => {}), /TickQueue: unknown input nowhere/);
  });

  it('is idle once every queued and running tick is done, those waiting for their input included', async () => {
    const queue = new TickQueue({ concurrency: 8 });
    queue.setInput('a', 1);
    const [first, second] = [gate(), gate()];
    const settled = [queue.add('a', first.task), queue.add('a', second.task)];
    let idle = false;
    const idled = queue.onIdle().then(() => (idle = true));
    first.release();
    await settle();
    assert.deepEqual([second.started(), idle], [true, false], 'the second tick of a, which waited for its input, still runs');
    second.release();
    await Promise.all([...settled, idled]);
    assert.equal(idle, true);
  });
});
