import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmt, fmtSpread, latencySummary, spread } from './measure.js';

test('figures print with their digits and separators; one that rounds to zero prints unsigned', () => {
  assert.equal(fmt(19126.4), '19,126');
  assert.equal(fmt(2.149, 1), '2.1');
  assert.equal(fmt(-0.02, 1), '0.0'); // a latency a few µs below zero, not "-0.0"
  assert.equal(fmt(-0.4), '0');
  assert.equal(fmt(-0.06, 1), '-0.1'); // a real negative figure keeps its sign
  assert.equal(fmt(Number.NaN), '—');
  assert.equal(fmtSpread({ median: -0.01, min: -0.2, max: 1.26 }, 1, ' ms'), '0.0 ms [-0.2–1.3]');
});

test('percentiles are nearest-rank, and a spread is the lower median with its range', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted input
  assert.deepEqual(latencySummary(values), { p50: 50, p99: 99, max: 100, n: 100 });
  assert.deepEqual(spread([3, 1, 2, 4]), { median: 2, min: 1, max: 4 });
});
