import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
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

/** A writer over a store that records results by delivery id, refusing some for what they hold, and failing whole batches while `down` (or at call number `downAtCall`). */
function refusing(t: TestContext, refused: Set<string>) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const recorded: string[] = [];
  const calls: number[] = [];
  const state = { down: 0, downAtCall: -1 };
  const lines: Array<{ level: number; msg: string; delivery?: string; attempts?: number }> = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  const store = {
    claims: {
      record: async (_owner: string, batch: AttemptRecord[]) => {
        calls.push(batch.length);
        if (calls.length === state.downAtCall) state.down = 1;
        if (state.down > 0) {
          state.down--;
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        // PostgreSQL's error for a NUL in text: SQLSTATE 22021, a data exception. The transaction writes nothing.
        if (batch.some((r) => refused.has(r.delivery.id))) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
        recorded.push(...batch.map((r) => r.delivery.id));
        return { disabled: [] };
      },
    },
  } as unknown as Store;
  const writer = new ResultWriter({ store, owner: 'w', logger: createLogger('info', sink), disableAfterMs: 60_000, onDisabled: () => {}, onWritten: () => {} });
  writer.start();
  const add = (...ids: string[]) => ids.forEach((id) => writer.add({ delivery: { id, webhookId: 'hook' } } as AttemptRecord));
  const written = async () => {
    writer.hurry();
    t.mock.timers.tick(0);
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { writer, recorded, calls, state, lines, add, written, tick: (ms: number) => t.mock.timers.tick(ms) };
}

test('a result the database refuses for what it holds is dropped alone, with an error line; the rest of its batch is written', async (t) => {
  const { writer, recorded, calls, lines, add, written } = refusing(t, new Set(['d3']));
  add('d1', 'd2', 'd3', 'd4', 'd5');
  await written();
  assert.deepEqual(recorded.sort(), ['d1', 'd2', 'd4', 'd5'], 'every other result is written, once');
  assert.deepEqual(calls, [5, 2, 3, 1, 2], 'halved down to the refused one: 5 → 2 (written) + 3 → 1 (refused) + 2 (written)');
  assert.equal(writer.backlog, 0, 'nothing is left to retry: the worker goes on claiming');
  const refused = lines.filter((line) => line.level === 50);
  assert.deepEqual(refused.map((line) => line.delivery), ['d3']);
  assert.match(refused[0]!.msg, /refused this attempt/);

  add('d6'); // and the writer goes on
  await written();
  assert.ok(recorded.includes('d6'));
});

test('a batch that fails for want of the database is kept whole and written once it is back; one that fails midway retries only what was not written', async (t) => {
  const { writer, recorded, calls, state, lines, add, written, tick } = refusing(t, new Set(['d2']));
  state.down = 1;
  add('d1', 'd3', 'd4');
  await written();
  assert.deepEqual(recorded, [], 'the database is down: nothing written, nothing dropped');
  assert.equal(writer.backlog, 3);
  assert.deepEqual(calls, [3], 'not halved: the same batch is retried');
  tick(500);
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(recorded, ['d1', 'd3', 'd4']);
  assert.equal(lines.filter((line) => line.level === 50 && line.attempts === 3).length, 1, 'the failed write was logged');

  // Refused data, then the database goes down between the halves: the half written stays written.
  add('d5', 'd6', 'd7', 'd2');
  const before = calls.length;
  state.downAtCall = before + 3; // the second half finds the database gone
  await written();
  assert.deepEqual(calls.slice(before), [4, 2, 2], 'the batch (refused), its first half (written), its second half (database down)');
  assert.deepEqual(recorded, ['d1', 'd3', 'd4', 'd5', 'd6']);
  assert.equal(writer.backlog, 2, 'only the second half is kept');
  tick(500);
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls.slice(before), [4, 2, 2, 2, 1, 1], 'then that half again (refused), halved');
  assert.deepEqual(recorded, ['d1', 'd3', 'd4', 'd5', 'd6', 'd7'], 'every result but the refused one, each once');
  assert.equal(writer.backlog, 0);
});
