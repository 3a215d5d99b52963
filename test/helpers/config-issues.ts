import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/load.js';

/** The lines of the ConfigError `read` throws; fails the test when it reads a config without one. */
export function configIssues(read: () => unknown): string[] {
  try {
    read();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('the config was accepted');
}
