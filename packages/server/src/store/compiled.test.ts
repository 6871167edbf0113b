import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { compiled, compiledPerCount, slot } from './compiled.js';

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
