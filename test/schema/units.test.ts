import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, parseDuration, parseSize } from '../../src/schema/units.js';

describe('parseDuration', () => {
  const read: [unknown, number][] = [
    ['250ms', 250],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    ['1.25s', 1_250],
    ['0.125m30s', 37_500],
    [' 5s ', 5_000],
    ['0s', 0],
    [30, 30_000],
    [0.5, 500],
    [0, 0],
  ];
  for (const [value, ms] of read) it(`reads ${JSON.stringify(value)} as ${ms} ms`, () => assert.equal(parseDuration(value), ms));

  const unread: unknown[] = [
    '',
    '10',
    's',
    '10 s',
    '10sec',
    '1d',
    '-5s',
    '5s5',
    'ms10',
    '.5s',
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    null,
    undefined,
    ['1s'],
  ];
  for (const value of unread) it(`cannot read ${JSON.stringify(value) ?? String(value)}`, () => assert.equal(parseDuration(value), undefined));
});

describe('parseSize', () => {
  const read: [unknown, number][] = [
    ['512', 512],
    ['512b', 512],
    ['64k', 64 * 1024],
    ['64kb', 64 * 1024],
    ['64KiB', 64 * 1024],
    ['128m', 128 * 1024 ** 2],
    ['128MB', 128 * 1024 ** 2],
    ['32MiB', 32 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['1GB', 1024 ** 3],
    ['2gib', 2 * 1024 ** 3],
    ['1.5k', 1536],
    ['0.25k', 256],
    ['0.5 m', 512 * 1024],
    [' 1k ', 1024],
    [4096, 4096],
    [0, 0],
  ];
  for (const [value, bytes] of read) it(`reads ${JSON.stringify(value)} as ${bytes} bytes`, () => assert.equal(parseSize(value), bytes));

  const unread: unknown[] = ['', 'k', '1t', '1 kilobyte', '-1k', '1k1', '.5k', 1.5, -1, Number.MAX_SAFE_INTEGER + 2, Number.NaN, false, null, undefined];
  for (const value of unread) it(`cannot read ${JSON.stringify(value) ?? String(value)}`, () => assert.equal(parseSize(value), undefined));
});

describe('formatBytes', () => {
  const written: [number, string][] = [
    [0, '0 bytes'],
    [1000, '1000 bytes'],
    [1024, '1 KiB'],
    [1536, '1536 bytes'],
    [256 * 1024, '256 KiB'],
    [1024 ** 2, '1 MiB'],
    [1024 ** 2 + 1024, '1025 KiB'],
    [64 * 1024 ** 2, '64 MiB'],
    [1024 ** 3, '1 GiB'],
    [3 * 1024 ** 3, '3 GiB'],
    [1024 ** 3 + 1024 ** 2, '1025 MiB'],
  ];
  for (const [bytes, text] of written) it(`writes ${bytes} as ${text}`, () => assert.equal(formatBytes(bytes), text));
});
