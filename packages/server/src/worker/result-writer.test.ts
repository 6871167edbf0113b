import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { AttemptRecord, Store } from '../store/index.js';
import { createLogger } from '../logging.js';
import { ResultWriter } from './result-writer.js';

/** A writer over a store that only counts what it is asked to record, on a clock the test moves. */
function setup(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const batches: number[] = [];
  const store = { claims: { record: async (_owner: string, batch: AttemptRecord[]) => (batches.push(batch.length), { disabled: [] }) } } as unknown as Store;
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
