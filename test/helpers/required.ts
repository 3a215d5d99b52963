import type { TestContext } from 'node:test';

/**
 * A test that cannot run here (`why` says what it needs): skipped locally,
 * failed where every test must run, so that a missing tool cannot pass as a
 * skip: CI (`CI=true`) and any run with `PYTHOND_REQUIRE_DOCKER=1` (.ci/run
 * sets both). The Python tests follow the same rule
 * (test/python/test_standalone_http.py).
 */
export function cannotRun(t: TestContext, why: string): void {
  if (process.env.CI === 'true' || process.env.PYTHOND_REQUIRE_DOCKER === '1') {
    throw new Error(`this test ${why}, and every test must run here (CI=true or PYTHOND_REQUIRE_DOCKER=1)`);
  }
  t.skip(why);
}
