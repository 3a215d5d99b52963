import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff.js';

describe('backoff', () => {
  it('retries the free failures at once, then doubles from firstMs up to maxMs', () => {
    const backoff = new Backoff({ firstMs: 1_000, maxMs: 300_000, free: 1 });
    const waits = Array.from({ length: 12 }, () => backoff.failed());
    assert.deepEqual(waits, [0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000]);
  });

  it('says how long is left until the next attempt, by its clock', () => {
    let now = 0;
    const backoff = new Backoff({ firstMs: 200, maxMs: 30_000, now: () => now });
    backoff.failed();
    backoff.failed();
    assert.equal(backoff.remaining(), 400);
    now = 350;
    assert.equal(backoff.remaining(), 50);
    now = 1_000;
    assert.equal(backoff.remaining(), 0);
  });

  it('starts over after a success', () => {
    const backoff = new Backoff({ firstMs: 200, maxMs: 30_000 });
    backoff.failed();
    backoff.failed();
    backoff.succeeded();
    assert.equal(backoff.failures, 0);
    assert.equal(backoff.remaining(), 0);
    assert.equal(backoff.failed(), 200);
  });

  it('draws a jittered wait from half to all of its step, a different one each time', () => {
    const waits = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const backoff = new Backoff({ firstMs: 200, maxMs: 30_000, jitter: true });
      for (let n = 0; n < 3; n++) backoff.failed();
      const wait = backoff.failed(); // step 1600
      assert.ok(wait >= 800 && wait <= 1_600, `${wait} within [800, 1600]`);
      waits.add(wait);
    }
    assert.ok(waits.size > 10, `50 draws gave ${waits.size} different waits`);
  });
});
