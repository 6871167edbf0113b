import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RETRY_AFTER_MS, decide, parseRetryAfter, retryDelay } from './policy.js';

const schedule = [5_000, 300_000, 1_800_000];
const fixed = (value: number) => () => value;

test('jitter stays within ±20% and reaches both ends', () => {
  assert.equal(retryDelay(schedule, 1, fixed(0)), 4_000);
  assert.equal(retryDelay(schedule, 1, fixed(1)), 6_000);
  assert.equal(retryDelay(schedule, 2, fixed(0.5)), 300_000);
  for (let i = 0; i < 1000; i++) {
    const delay = retryDelay(schedule, 3);
    assert.ok(delay >= 1_440_000 && delay <= 2_160_000, String(delay));
  }
});

test('2xx succeeds; other answers retry on schedule until the final attempt', () => {
  const now = 1_000_000;
  assert.deepEqual(decide({ attempt: 1, finalAttempt: 4, statusCode: 204, now }, schedule), { status: 'succeeded' });
  assert.deepEqual(decide({ attempt: 1, finalAttempt: 4, statusCode: 500, now }, schedule, fixed(0.5)), { status: 'pending', dueAt: now + 5_000 });
  assert.deepEqual(decide({ attempt: 3, finalAttempt: 4, statusCode: null, now }, schedule, fixed(0.5)), { status: 'pending', dueAt: now + 1_800_000 });
  assert.deepEqual(decide({ attempt: 4, finalAttempt: 4, statusCode: 500, now }, schedule), { status: 'failed' });
  assert.deepEqual(decide({ attempt: 2, finalAttempt: 2, statusCode: 302, now }, schedule), { status: 'failed' }, 'a redirect is a failure');
});

test('Retry-After is honoured when it asks for more, and clamped', () => {
  const now = 0;
  assert.equal((decide({ attempt: 1, finalAttempt: 4, statusCode: 429, retryAfterMs: 60_000, now }, schedule, fixed(0.5)) as { dueAt: number }).dueAt, 60_000);
  assert.equal((decide({ attempt: 1, finalAttempt: 4, statusCode: 429, retryAfterMs: 1_000, now }, schedule, fixed(0.5)) as { dueAt: number }).dueAt, 5_000, 'never sooner than the schedule');
  assert.equal((decide({ attempt: 1, finalAttempt: 4, statusCode: 503, retryAfterMs: 10 * MAX_RETRY_AFTER_MS, now }, schedule, fixed(0.5)) as { dueAt: number }).dueAt, MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('120', 0), 120_000);
  assert.equal(parseRetryAfter(new Date(90_000).toUTCString(), 30_000), 60_000);
  assert.equal(parseRetryAfter('soon', 0), undefined);
  assert.equal(parseRetryAfter(undefined, 0), undefined);
});

test('410 Gone fails the delivery and disables the webhook at once', () => {
  const decision = decide({ attempt: 1, finalAttempt: 8, statusCode: 410, now: 0 }, schedule);
  assert.equal(decision.status, 'failed');
  assert.match((decision as { disableReason: string }).disableReason, /410 Gone/);
});
