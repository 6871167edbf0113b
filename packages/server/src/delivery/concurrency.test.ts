import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONCURRENCY_LIMITS as L, nextAverage, webhookSlots } from './concurrency.js';

test('a new endpoint starts cautious; a quick one earns the fast allowance', () => {
  assert.equal(webhookSlots(undefined, 0), L.cautious);
  assert.equal(webhookSlots(5, 0), L.fast);
  assert.equal(webhookSlots(L.fastBelowMs, 0), L.cautious);
});

test('one attempt hanging past the threshold takes the fast allowance away at once', () => {
  assert.equal(webhookSlots(5, L.hangingAfterMs - 1), L.fast);
  assert.equal(webhookSlots(5, L.hangingAfterMs), L.cautious);
});

test('the average follows durations: a slow streak makes an endpoint cautious, a quick one restores it', () => {
  let average: number | undefined;
  for (let i = 0; i < 20; i++) average = nextAverage(average, 3);
  assert.equal(average, 3);
  for (let i = 0; i < 5; i++) average = nextAverage(average, 15_000);
  assert.equal(webhookSlots(average, 0), L.cautious);
  for (let i = 0; i < 40; i++) average = nextAverage(average, 3);
  assert.equal(webhookSlots(average, 0), L.fast);
});
