import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullProgress, type PullEvent } from '../../src/runtimes/docker/pull-progress.js';

const A = 'aaaaaaaaaaaa';
const B = 'bbbbbbbbbbbb';
const C = 'cccccccccccc';

/** What the engine streams for a pull of two layers (A downloading, B there already) and one still waiting (C). */
const START: PullEvent[] = [
  { status: 'Pulling from team/collector', id: '1' },
  { status: 'Pulling fs layer', id: A },
  { status: 'Already exists', id: B },
  { status: 'Waiting', id: C },
];

describe('pull progress', () => {
  it('says one line per interval at most, however many events the engine streams', () => {
    const progress = new PullProgress(5_000, 0);
    const lines: [number, string][] = [];
    const take = (event: PullEvent, now: number) => {
      const line = progress.take(event, now);
      if (line) lines.push([now, line]);
    };
    for (const event of START) take(event, 10);
    // A chunk of layer A every 10 ms for 12 s: 1,200 events.
    for (let ms = 20; ms <= 12_000; ms += 10) take({ status: 'Downloading', id: A, progressDetail: { current: ms * 10_000, total: 120_000_000 } }, ms);
    take({ status: 'Download complete', id: A }, 12_010);
    take({ status: 'Pull complete', id: A }, 12_020);
    take({ status: 'Downloading', id: C, progressDetail: { current: 1_000_000, total: 2_000_000 } }, 15_000);
    assert.deepEqual(lines, [
      [5_000, '1 of 3 layers done, 1 on the engine already, 50.0 of 120.0 MB downloaded'],
      [10_000, '1 of 3 layers done, 1 on the engine already, 100.0 of 120.0 MB downloaded'],
      [15_000, '2 of 3 layers done, 1 on the engine already, 121.0 of 122.0 MB downloaded'],
    ]);
  });

  it('tells a new image from one the engine had, and keeps the error a stream ends with', () => {
    const pulled = new PullProgress(5_000, 0);
    pulled.take({ status: 'Status: Downloaded newer image for registry.example:5000/team/collector:1' }, 1);
    assert.equal(pulled.outcome, 'pulled');
    const current = new PullProgress(5_000, 0);
    current.take({ status: 'Status: Image is up to date for registry.example:5000/team/collector:1' }, 1);
    assert.equal(current.outcome, 'current');
    const failed = new PullProgress(5_000, 0);
    failed.take({ error: 'short read', errorDetail: { message: 'unexpected EOF reading layer aaaaaaaaaaaa' } }, 1);
    assert.deepEqual([failed.outcome, failed.error], [undefined, 'unexpected EOF reading layer aaaaaaaaaaaa']);
  });
});
