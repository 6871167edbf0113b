// Lease ends: each of an owner's leases ends at its own millisecond (claims and hand-overs find
// their rows by it), and one that leased nothing is given back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseEnds } from './lease.js';

test("an owner's lease ends are distinct even within one millisecond; other owners' are their own", () => {
  const ends = new LeaseEnds();
  const mine = Array.from({ length: 50 }, () => ends.next('w', 60_000));
  assert.equal(new Set(mine).size, 50);
  assert.deepEqual(mine, [...mine].sort((a, b) => a - b), 'increasing');
  assert.ok(mine[0]! >= Date.now() + 59_000);
  const theirs = ends.next('other', 60_000);
  assert.ok(theirs <= mine[0]! + 50, "another owner's end does not follow mine");
});

test('an end that leased nothing is given back, so the next lease is as long as asked; a later one is not undone', () => {
  const ends = new LeaseEnds();
  const long = ends.next('w', 60_000);
  ends.unused('w', long);
  const short = ends.next('w', 1);
  assert.ok(short < long, 'not pushed past the unused end');
  const kept = ends.next('w', 60_000);
  ends.unused('w', short); // stale: a later end was taken since
  assert.ok(ends.next('w', 1) > kept, 'the later end stays taken');
});
