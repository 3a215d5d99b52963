import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReportFlow } from '../../src/inputs/report-flow.js';

/** A promise and the hands that settle it. */
function pending() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const settled = async (promise: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('ReportFlow', () => {
  it('lets a run have no more messages in the workers than allowed: the next is read once one is decoded', async () => {
    const flow = new ReportFlow({ inWorkers: 1, inFlight: 4 });
    const first = pending();
    const wait = flow.add(first.promise, pending().promise);
    assert.ok(wait, 'with one message in the workers, the host waits');
    assert.equal(await settled(wait), false);
    first.resolve();
    assert.equal(await settled(wait), true, 'decoded: the next message may be read');
  });

  it('with room in the workers, reads on until as many messages as allowed are decoded or being delivered', async () => {
    const flow = new ReportFlow({ inWorkers: 3, inFlight: 2 });
    const delivered = pending();
    assert.equal(flow.add(Promise.resolve(), delivered.promise), undefined);
    const wait = flow.add(Promise.resolve(), pending().promise);
    assert.ok(wait, 'two messages on their way to the outputs: the host waits');
    assert.equal(await settled(wait), false);
    delivered.resolve();
    assert.equal(await settled(wait), true);
  });

  it('counts a message that failed as through: a failure does not stall the host', async () => {
    const flow = new ReportFlow({ inWorkers: 2, inFlight: 4 });
    const failing = pending();
    assert.equal(flow.add(failing.promise, failing.promise), undefined);
    const wait = flow.add(pending().promise, pending().promise);
    assert.ok(wait);
    failing.reject(new Error('worker died'));
    assert.equal(await settled(wait), true);
  });

  it('is drained once every message is delivered', async () => {
    const flow = new ReportFlow({ inWorkers: 2, inFlight: 4 });
    const a = pending();
    const b = pending();
    flow.add(Promise.resolve(), a.promise);
    flow.add(Promise.resolve(), b.promise);
    const drained = flow.drained();
    a.resolve();
    assert.equal(await settled(drained), false, 'one still on its way');
    b.resolve();
    assert.equal(await settled(drained), true);
  });
});
