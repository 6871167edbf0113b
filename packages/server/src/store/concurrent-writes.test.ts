// Writes that arrive together (on SQLite they share one transaction, each in its own savepoint;
// on PostgreSQL they run side by side): each commits or fails alone, and only committed ones
// leave events and deliveries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProtocolError } from '../errors.js';
import { sqliteDatabase, testDatabases } from '../test-support/databases.js';
import { openStore, type StoreFixture } from '../test-support/store.js';

for (const target of await testDatabases()) {
  describe(`concurrent writes on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Acme')).account.id;
      await fx.store.webhooks.create(account, { name: 'all', url: 'https://example.com/h', events: ['contact.created'] });
    });
    after(() => fx.close());

    test('a failing write among many rolls back alone; the others commit with their events', async () => {
      await fx.store.contacts.create(account, { username: 'taken', phone_number: '1' });
      const before = fx.committed.length;
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => fx.store.contacts.create(account, { username: i % 4 === 3 ? 'taken' : `user${i}`, phone_number: String(i) })),
      );
      const failed = results.filter((r) => r.status === 'rejected');
      assert.equal(failed.length, 3);
      for (const f of failed) assert.ok((f as PromiseRejectedResult).reason instanceof ProtocolError && (f as PromiseRejectedResult).reason.code === 'conflict');
      const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
      assert.equal(made.length, 9);
      // Exactly the committed ones were reported, stored as events, and queued for delivery.
      const reported = fx.committed.slice(before).filter((e) => e.type === 'contact.created');
      assert.equal(reported.length, 9);
      const events = (await fx.store.events.list(account, { limit: 100, type: 'contact.created' })).data.map((e) => (e.payload as { id: string }).id);
      assert.deepEqual(made.filter((id) => !events.includes(id)), []);
      assert.equal(events.length, 10); // the nine, and 'taken'
      const contacts = (await fx.store.contacts.list(account, { limit: 100 })).data;
      assert.equal(contacts.length, 10);
      assert.equal((await fx.store.claims.queueStats()).due, 10);
    });

    test('a write that throws after emitting leaves neither its change nor its event', async () => {
      const before = fx.committed.length;
      const results = await Promise.allSettled([
        fx.store.groups.create(account, { name: 'ok-1' }),
        fx.store.groups.create(account, { name: 'bad', contacts: ['no-such-contact'] }),
        fx.store.groups.create(account, { name: 'ok-2' }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const groups = (await fx.store.groups.list(account, { limit: 100 })).data.map((g) => g.name).sort();
      assert.deepEqual(groups, ['ok-1', 'ok-2']);
      assert.equal(fx.committed.slice(before).filter((e) => e.type === 'group.created').length, 2, 'only the committed writes were reported');
      const types = (await fx.store.events.list(account, { limit: 100 })).data.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'group.created').length, 2);
    });
  });
}

describe('group commit (SQLite)', () => {
  test('a job that wrote and then threw is rolled back to its savepoint; its neighbours commit', async () => {
    const target = await sqliteDatabase();
    const database = await target.open();
    try {
      const { createGroupCommit } = await import('./group-commit.js');
      const run = createGroupCommit(database.db);
      const insert = (id: string) => (tx: any) => tx.insertInto('accounts').values({ id, name: id, created_at: 0 }).execute();
      const results = await Promise.allSettled([
        run(insert('a1')),
        run(async (tx) => {
          await insert('b1')(tx);
          throw new Error('after writing');
        }),
        run(insert('c1')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const ids = (await database.db.selectFrom('accounts').select('id').execute()).map((r) => r.id).sort();
      assert.deepEqual(ids, ['a1', 'c1']);
    } finally {
      await database.close();
      await target.drop();
    }
  });
});
