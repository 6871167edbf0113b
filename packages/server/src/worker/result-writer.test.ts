import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { AttemptRecord, Store } from '../store/index.js';
import { createLogger } from '../logging.js';
import { ResultWriter } from './result-writer.js';

/** A writer over a store that only counts what it is asked to record (after `gate`), on a clock the test moves. */
function setup(t: TestContext, gate: () => Promise<unknown> = async () => {}) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: number[] = [];
  const store = { claims: { record: async (_owner: string, batch: AttemptRecord[]) => (await gate(), batches.push(batch.length), { disabled: [] }) } } as unknown as Store;
  const writer = new ResultWriter({ store, owner: 'w', logger: createLogger('silent'), disableAfterMs: 60_000, onDisabled: () => {}, onWritten: () => {} });
  writer.start();
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { writer, batches, settle, tick: (ms: number) => t.mock.timers.tick(ms) };
}
const record = {} as AttemptRecord;

test('results linger so later ones share the transaction; hurry writes them without waiting', async (t) => {
  const { writer, batches, settle, tick } = setup(t);
  writer.add(record);
  writer.add(record);
  tick(5);
  await settle();
  assert.deepEqual(batches, [], 'still lingering: more may come');
  tick(5);
  await settle();
  assert.deepEqual(batches, [2], 'written together once the linger ran out');

  writer.add(record);
  writer.hurry();
  tick(0);
  await settle();
  assert.deepEqual(batches, [2, 1], 'hurried: written at once');
  assert.equal(writer.backlog, 0);

  writer.hurry(); // nothing buffered: nothing written
  tick(10);
  await settle();
  assert.deepEqual(batches, [2, 1]);
});

test('the backlog counts results until their transaction has committed', async (t) => {
  let commit!: () => void;
  const { writer, batches, settle, tick } = setup(t, () => new Promise<void>((resolve) => (commit = resolve)));
  writer.add(record);
  writer.add(record);
  writer.hurry();
  tick(0);
  await settle();
  assert.equal(writer.backlog, 2, 'being written is not written: the worker may not claim in their place yet');
  writer.add(record);
  assert.equal(writer.backlog, 3);
  commit();
  await settle();
  assert.deepEqual(batches, [2]);
  assert.equal(writer.backlog, 1, 'only the result that came after the write began is left');
});
