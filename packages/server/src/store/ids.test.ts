import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newToken, timePart } from './ids.js';

test('ids are 16 alphanumerics that sort by creation time, and unique', async () => {
  const early = newId();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const ids = Array.from({ length: 50_000 }, () => newId());
  for (const id of [early, ...ids]) assert.match(id, /^[A-Za-z0-9]{16}$/);
  assert.equal(new Set(ids).size, ids.length);
  // Bytewise order (SQLite's) follows time: an earlier millisecond's id sorts first.
  assert.ok(ids.every((id) => Buffer.compare(Buffer.from(early), Buffer.from(id)) < 0));
  assert.ok(timePart(Date.UTC(2030, 0, 1)) > timePart(Date.UTC(2026, 0, 1)));
  assert.equal(timePart(61), '0000000z');
  assert.equal(timePart(62), '00000010');
  assert.equal(new Set(ids.map((id) => id.slice(8))).size, ids.length, 'the random half alone is unique here');
});

test('tokens stay fully random: 32 alphanumerics, no shared prefix', () => {
  const tokens = Array.from({ length: 1000 }, () => newToken());
  for (const token of tokens) assert.match(token, /^[A-Za-z0-9]{32}$/);
  assert.ok(new Set(tokens.map((t) => t.slice(0, 4))).size > 900);
});
