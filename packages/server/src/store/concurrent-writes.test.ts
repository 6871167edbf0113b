// Writes that arrive together share one transaction (group-commit.ts; on SQLite one after
// another, on PostgreSQL side by side): each commits or fails alone, and only committed ones
// leave events and deliveries.
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { ProtocolError } from '../errors.js';
import { postgresDatabase, sqliteDatabase, testDatabases } from '../test-support/databases.js';
import { refusedData } from './database.js';
import { groupsOneFailing, openStore, type StoreFixture } from '../test-support/store.js';
import { createGroupCommit, type GroupCommit } from './group-commit.js';
import type { Tables } from './schema.js';

/** Fresh databases for this file; the group commit's tests make one of their own per test, of the same kinds. */
const targets = await testDatabases();

for (const target of targets) {
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
      await groupsOneFailing(fx.store, account);
      const groups = (await fx.store.groups.list(account, { limit: 100 })).data.map((g) => g.name).sort();
      assert.deepEqual(groups, ['ok-1', 'ok-2']);
      assert.equal(fx.committed.slice(before).filter((e) => e.type === 'group.created').length, 2, 'only the committed writes were reported');
      const types = (await fx.store.events.list(account, { limit: 100 })).data.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'group.created').length, 2);
    });
  });
}

for (const { name } of targets) {
  describe(`group commit on ${name}`, () => {
    /** Runs `work` with a group commit on a fresh store; `insert(id)` writes an account row. */
    async function withGroupCommit(
      work: (run: GroupCommit, insert: (id: string) => (tx: Kysely<Tables>) => Promise<string>, ids: () => Promise<string[]>) => Promise<void>,
    ) {
      const fresh = name === 'sqlite' ? await sqliteDatabase() : (await postgresDatabase())!;
      const database = await fresh.open();
      try {
        const insert = (id: string) => async (tx: Kysely<Tables>) => (await tx.insertInto('accounts').values({ id, name: id, created_at: 0 }).execute(), id);
        const ids = async () => (await database.db.selectFrom('accounts').select('id').execute()).map((r) => r.id).sort();
        await work(createGroupCommit(database), insert, ids);
      } finally {
        await database.close();
        await fresh.drop();
      }
    }
    /** A job that writes, then throws; counts its runs. */
    const failing = (insert: (id: string) => (tx: Kysely<Tables>) => Promise<string>, id: string, runs: Map<string, number>) => async (tx: Kysely<Tables>) => {
      runs.set(id, (runs.get(id) ?? 0) + 1);
      await insert(id)(tx);
      throw new Error(`${id} failed after writing`);
    };

    test('writes that share a transaction all commit, each answered with its own value', async () => {
      await withGroupCommit(async (run, insert, ids) => {
        assert.deepEqual(await Promise.all(['a', 'b', 'c'].map((id) => run(insert(id)))), ['a', 'b', 'c']);
        assert.deepEqual(await ids(), ['a', 'b', 'c']);
      });
    });

    test('a job that wrote and then threw is rolled back alone, runs once, and fails with its own error; its neighbours commit', async () => {
      await withGroupCommit(async (run, insert, ids) => {
        const runs = new Map<string, number>();
        const results = await Promise.allSettled([run(insert('a1')), run(failing(insert, 'b1', runs)), run(insert('c1'))]);
        assert.deepEqual(
          results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
          ['a1', 'b1 failed after writing', 'c1'],
        );
        assert.deepEqual(await ids(), ['a1', 'c1']);
        assert.equal(runs.get('b1'), 1, 'the failed write is not run again');
      });
    });

    test('failures first, last and twice in one batch, or alone: each rolls back alone with its own error', async () => {
      await withGroupCommit(async (run, insert, ids) => {
        const runs = new Map<string, number>();
        const batch = await Promise.allSettled([run(failing(insert, 'f1', runs)), run(insert('ok1')), run(failing(insert, 'f2', runs)), run(insert('ok2')), run(failing(insert, 'f3', runs))]);
        assert.deepEqual(
          batch.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
          ['f1 failed after writing', 'ok1', 'f2 failed after writing', 'ok2', 'f3 failed after writing'],
        );
        await assert.rejects(run(failing(insert, 'alone', runs)), /alone failed after writing/);
        assert.deepEqual(await ids(), ['ok1', 'ok2']);
        assert.equal(runs.get('alone'), 1);
      });
    });

    test("a statement the database refuses fails its own write with the database's error, not a neighbour's", async () => {
      await withGroupCommit(async (run, insert, ids) => {
        await run(insert('taken'));
        // On PostgreSQL the refused INSERT aborts the transaction, and the neighbours' statements
        // sent after it are refused too (25P02): those must run again, not fail. The refused write
        // surfaces its error last (a write may await more before it gives up), after theirs.
        const refused = async (tx: Kysely<Tables>) => {
          try {
            return await insert('taken')(tx);
          } catch (error) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            throw error;
          }
        };
        const results = await Promise.allSettled([run(insert('n1')), run(refused), run(insert('n2')), run(insert('n3'))]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        assert.ok(refusedData((results[1] as PromiseRejectedResult).reason), String((results[1] as PromiseRejectedResult).reason));
        assert.deepEqual(await ids(), ['n1', 'n2', 'n3', 'taken']);
      });
    });

    test("a transaction the database gave up (a deadlock) is no write's failure: every write runs again and commits", async () => {
      await withGroupCommit(async (run, insert, ids) => {
        let runs = 0;
        const deadlocked = async (tx: Kysely<Tables>) => {
          await insert('d1')(tx);
          if (++runs === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
          return 'd1';
        };
        assert.deepEqual(await Promise.all([run(insert('x1')), run(deadlocked), run(insert('x2'))]), ['x1', 'd1', 'x2']);
        assert.equal(runs, 2);
        assert.deepEqual(await ids(), ['d1', 'x1', 'x2']);
      });
    });

    if (name === 'postgres') {
      test('writes that arrive together share one PostgreSQL transaction', async () => {
        await withGroupCommit(async (run, insert) => {
          const txid = (id: string) => async (tx: Kysely<Tables>) => {
            await insert(id)(tx);
            return (await sql<{ txid: string }>`select txid_current()::text as txid`.execute(tx)).rows[0]!.txid;
          };
          const first = await run(txid('t0'));
          const batch = await Promise.all(['t1', 't2', 't3', 't4'].map((id) => run(txid(id))));
          assert.equal(new Set(batch).size, 1, `one transaction for the batch: ${batch.join(', ')}`);
          assert.notEqual(batch[0], first, 'and a new one for the next batch');
        });
      });
    }
  });
}
