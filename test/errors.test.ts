import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../src/errors.js';
import { API_ERRORS } from '../src/http/api-error.js';
import { markdownTable, unquoted } from './helpers/markdown.js';

describe('error catalogue', () => {
  it('describes every error code in docs/errors.md, and no other', () => {
    const documented = markdownTable('docs/errors.md', 'Errors').map(([code]) => unquoted(code!));
    assert.deepEqual([...documented].sort(), [...ERROR_CODES].sort());
  });

  it('lists every HTTP API error with its status in src/http/README.md, and no other', () => {
    const documented = markdownTable('src/http/README.md', 'Error codes').map(([status, code]) => `${status} ${unquoted(code!)}`);
    const defined = Object.values(API_ERRORS).map(({ status, code }) => `${status} ${code}`);
    assert.deepEqual([...documented].sort(), [...defined].sort());
  });
});
