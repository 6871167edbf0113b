import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tickets } from './tickets.js';

test('a ticket takes back its own value once; tickets taken back are handed out again', () => {
  const tickets = new Tickets<string>();
  const a = tickets.add('a');
  const b = tickets.add('b');
  const c = tickets.add('c');
  assert.equal(tickets.size, 3);
  assert.deepEqual(tickets.values(), ['a', 'b', 'c']);

  assert.equal(tickets.take(b), 'b');
  assert.equal(tickets.take(b), undefined, 'a ticket taken back holds nothing');
  assert.equal(tickets.take(99), undefined, 'nor does one never handed out');
  assert.equal(tickets.size, 2);
  assert.deepEqual(tickets.values(), ['a', 'c']);

  const d = tickets.add('d');
  assert.equal(d, b, 'the freed ticket is reused, so tickets stay as few as the values held at once');
  assert.equal(tickets.take(a), 'a');
  assert.equal(tickets.take(d), 'd');
  assert.equal(tickets.take(c), 'c');
  assert.equal(tickets.size, 0);
  assert.deepEqual(tickets.values(), []);

  tickets.add('e');
  tickets.clear();
  assert.equal(tickets.size, 0);
  assert.deepEqual(tickets.values(), []);
  assert.equal(tickets.add('f'), 0, 'after clear, tickets start over');
});
