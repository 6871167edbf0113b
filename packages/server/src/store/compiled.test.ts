import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { sql } from 'kysely';
import { compiled, compiledBatch, compiledPerCount, slot } from './compiled.js';
import { arrayRows, named } from './dialects/array-rows.js';

const targets = await testDatabases();
after(() => Promise.all(targets.map((t) => t.drop())));

// Module-level, as the store's are: one instance serves every database the process opens.
const insertEvents = compiledPerCount(2, (db, n) =>
  db.insertInto('events').values(Array.from({ length: n }, (_, i) => ({ id: slot(i), account_id: slot(n), type: 'contact.created', body: '{}', created_at: slot(n + 1) }))),
);
const eventsOf = compiled((db) => db.selectFrom('events').select(['id', 'created_at']).where('account_id', '=', slot('account')).where('created_at', '>=', slot('since')).orderBy('id'));

test('compiled queries run with each call’s values, on SQLite and PostgreSQL alike from one instance', async () => {
  for (const target of targets) {
    const database = await target.open();
    try {
      const { db } = database;
      await insertEvents(db, 1, ['a1', 'acc_a', 100]);
      await insertEvents(db, 2, ['a2', 'a3', 'acc_a', 200]);
      await insertEvents(db, 3, ['b1', 'b2', 'b3', 'acc_b', 300]); // past the kept counts: built afresh
      await insertEvents(db, 2, ['b4', 'b5', 'acc_b', 400]); // the kept 2-row shape, new values
      const rows = async (account: string, since: number) => (await eventsOf(db, { account, since })).rows.map((r) => [r.id, Number(r.created_at)]);
      assert.deepEqual(await rows('acc_a', 0), [['a1', 100], ['a2', 200], ['a3', 200]], target.name);
      assert.deepEqual(await rows('acc_a', 150), [['a2', 200], ['a3', 200]], target.name);
      assert.deepEqual(await rows('acc_b', 350), [['b4', 400], ['b5', 400]], target.name);
      assert.deepEqual(await rows('acc_c', 0), [], target.name);
      // Inside a transaction too (on SQLite, on its connection directly): a read sees the
      // transaction's own write, the commit keeps it, and a failed statement fails its call.
      await db.transaction().execute(async (tx) => {
        await insertEvents(tx, 1, ['d1', 'acc_d', 600]);
        assert.deepEqual((await eventsOf(tx, { account: 'acc_d', since: 0 })).rows.map((r) => r.id), ['d1'], target.name);
      });
      assert.deepEqual(await rows('acc_d', 0), [['d1', 600]], target.name);
      await assert.rejects(db.transaction().execute(async (tx) => {
        await insertEvents(tx, 1, ['c1', 'acc_c', 500]);
        await insertEvents(tx, 1, ['c1', 'acc_c', 500]); // duplicate (account_id, id)
      }));
      assert.deepEqual(await rows('acc_c', 0), [], 'the transaction rolled back');
    } finally {
      await database.close();
    }
  }
});

// A batch past several SQLite chunks (of 4 here), so each chunk's values are its own rows' cells,
// in order, followed by the extra values; PostgreSQL gets one array per column instead.
const insertBatch = compiledBatch(
  [
    ['id', 'text'],
    ['account_id', 'text'],
    ['created_at', 'bigint'],
  ],
  ({ rows, columns }) => sql`insert into events (${columns}, type, body) select *, 'contact.created', '{}' from (${rows}) as r`,
  4,
);
const touchBatch = compiledBatch(
  [
    ['id', 'text'],
    ['created_at', 'bigint'],
  ],
  ({ v, extra }) => sql`with ${v} update events set created_at = v.created_at + ${extra(0)}, type = ${extra(1)} from v where events.account_id = 'acc_batch' and events.id = v.id`,
  4,
);

test('batch writes put every row in its place, and the extra values after each chunk, on SQLite and PostgreSQL alike', async () => {
  for (const target of targets) {
    const database = await target.open();
    try {
      const { db } = database;
      const ids = Array.from({ length: 11 }, (_, i) => `e${String(i).padStart(2, '0')}`);
      await insertBatch(db, ids.map((id, i) => [id, i === 5 ? 'acc_other' : 'acc_batch', 1000 + i]));
      // Every row but one, in three chunks of SQLite's 4 (the last one short), each with the extras.
      await touchBatch(db, ids.filter((_, i) => i !== 7).map((id, i) => [id, 2000 + i]), [5, 'message.created']);
      const rows = await db.selectFrom('events').select(['id', 'account_id', 'type', 'created_at']).where('id', 'in', ids).orderBy('id').execute();
      assert.deepEqual(
        rows.map((r) => [r.id, r.account_id, r.type, Number(r.created_at)]),
        ids.map((id, i) => {
          if (i === 5) return [id, 'acc_other', 'contact.created', 1005]; // another account's: not touched
          if (i === 7) return [id, 'acc_batch', 'contact.created', 1007]; // not in the update's batch
          return [id, 'acc_batch', 'message.created', 2000 + (i > 7 ? i - 1 : i) + 5];
        }),
        target.name,
      );
    } finally {
      await database.close();
    }
  }
});

const eventsAsArrays = compiled((db) =>
  arrayRows(db.selectFrom('events').select(['id', 'created_at', 'type']).where('account_id', '=', slot('account')).orderBy('id')),
);

test('a statement marked ARRAY_ROWS gets its rows as arrays in select-list order on both drivers, and unmarked ones still get objects', async () => {
  for (const target of targets) {
    const database = await target.open();
    try {
      const { db } = database;
      await insertEvents(db, 2, ['r1', 'r2', 'acc_rows', 700]);
      const { rows } = await eventsAsArrays(db, { account: 'acc_rows' });
      assert.deepEqual(rows, [['r1', 700, 'contact.created'], ['r2', 700, 'contact.created']], target.name);
      assert.deepEqual(rows.map(named(['id', 'created_at', 'type'])), [
        { id: 'r1', created_at: 700, type: 'contact.created' },
        { id: 'r2', created_at: 700, type: 'contact.created' },
      ]);
      // Marked and without parameters (pg sends those another way): arrays too.
      const { rows: bare } = await db.executeQuery(arrayRows(db.selectFrom('events').select(['id', 'type']).where('account_id', '=', sql.lit('acc_rows')).orderBy('id')).compile());
      assert.deepEqual(bare, [['r1', 'contact.created'], ['r2', 'contact.created']], `${target.name}, no parameters`);
      // The same query unmarked, run after it on the same connection: objects, as before.
      assert.deepEqual((await eventsOf(db, { account: 'acc_rows', since: 0 })).rows.map((r) => ({ ...r, created_at: Number(r.created_at) })), [
        { id: 'r1', created_at: 700 },
        { id: 'r2', created_at: 700 },
      ], target.name);
    } finally {
      await database.close();
    }
  }
});
