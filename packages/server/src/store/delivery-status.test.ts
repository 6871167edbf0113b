// A webhook's deliveries by status, on both databases: what each filter lists, `recover`, and
// that the failed filter is served by the failed-deliveries index (migration 005).
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { attemptRecord as record, claimedPerWebhook, openStore, webhookKey, type StoreFixture } from '../test-support/store.js';
import { ProtocolError } from '../errors.js';
import { webhookDeliveries } from './deliveries.js';
import type { AttemptRecord, ClaimedDelivery } from './index.js';

for (const target of await testDatabases()) {
  describe(`delivery statuses on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    let other: string;
    let hook: string;
    let neighbour: string;
    /** The hook's six deliveries, oldest first: 2 succeeded, 2 failed, 1 waiting for a retry, 1 in flight. */
    let ids: string[];
    /** Deliveries still leased, to be settled by the last test: owner → claimed. */
    const leased: Array<[string, ClaimedDelivery]> = [];
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Statuses')).account.id;
      other = (await fx.store.accounts.create('Other')).account.id;
      const [ours, theirs] = await claimedPerWebhook(fx.store, account, ['hook', 'neighbour'], 6);
      hook = ours!.id;
      neighbour = theirs!.id;
      const mine = ours!.claimed;
      ids = mine.map((d) => d.id);
      assert.equal(ids.length, 6);
      const outcomes: Array<AttemptRecord['outcome'] | undefined> = [
        { status: 'succeeded' },
        { status: 'succeeded' },
        { status: 'failed' },
        { status: 'failed' },
        { status: 'pending', dueAt: Date.now() + 3_600_000 },
        undefined, // still in flight: pending, leased
      ];
      leased.push(['o', mine[5]!]);
      const records = mine.flatMap((d, i) => (outcomes[i] ? [record(d, outcomes[i]!)] : []));
      records.push(...theirs!.claimed.map((d) => record(d, { status: 'succeeded' })));
      await fx.store.claims.record('o', records, { disableAfterMs: 1e9 });
    });
    after(() => fx.close());

    const listed = async (status?: 'pending' | 'succeeded' | 'failed', webhook = hook) =>
      (await fx.store.deliveries.list(account, webhook, { limit: 100, ...(status && { status }) })).data.map((d) => d.id);

    test('each status lists exactly its own deliveries, newest first, and pages through them', async () => {
      assert.deepEqual(await listed(), [...ids].reverse());
      assert.deepEqual(await listed('succeeded'), [ids[1], ids[0]]);
      assert.deepEqual(await listed('failed'), [ids[3], ids[2]]);
      assert.deepEqual(await listed('pending'), [ids[5], ids[4]]);
      assert.deepEqual(await listed('failed', neighbour), [], "another webhook's failures are its own");
      assert.equal((await listed('succeeded', neighbour)).length, 6);
      const first = await fx.store.deliveries.list(account, hook, { limit: 1, status: 'failed' });
      assert.deepEqual([first.has_more, first.data.map((d) => d.id)], [true, [ids[3]]]);
      const second = await fx.store.deliveries.list(account, hook, { limit: 1, status: 'failed', starting_after: ids[3] });
      assert.deepEqual([second.has_more, second.data.map((d) => d.id)], [false, [ids[2]]]);
      await assert.rejects(fx.store.deliveries.list(other, hook, { status: 'failed' }), (error) => error instanceof ProtocolError && error.code === 'not_found');
    });

    test('recover re-queues only the failed deliveries, due at once; then none is failed', async () => {
      assert.deepEqual(await fx.store.deliveries.recover(account, hook, Math.floor(Date.now() / 1000) + 60), { recovered: 0 }, 'none created since then');
      assert.deepEqual(await fx.store.deliveries.recover(account, neighbour, 0), { recovered: 0 }, "the neighbour's key finds none of this webhook's failures");
      assert.deepEqual(await fx.store.deliveries.recover(account, hook, 0), { recovered: 2 });
      assert.deepEqual(await listed('failed'), []);
      assert.deepEqual(await listed('pending'), [ids[5], ids[4], ids[3], ids[2]]);
      assert.deepEqual(await listed('succeeded'), [ids[1], ids[0]]);
      const due = await fx.store.claims.claim('p', { limit: 100, leaseMs: 60_000 });
      leased.push(...due.map((d) => ['p', d] as [string, ClaimedDelivery]));
      assert.deepEqual(due.map((d) => d.id).sort(), [ids[2], ids[3]].sort(), 'the recovered two are due now; the retry and the one in flight are not');
    });

    /** The plan of a webhook's deliveries of one status, as the list runs it. */
    const planOf = async (only: 'pending' | 'failed') => {
      const { db } = fx.store.database;
      const query = webhookDeliveries(db, account, await webhookKey(db, hook), only).orderBy('seq', 'desc').limit(11).compile();
      return db.connection().execute(async (connection) => {
        if (target.name === 'sqlite') {
          const { rows } = await connection.executeQuery<{ detail: string }>({ ...query, sql: `explain query plan ${query.sql}` });
          return rows.map((row) => row.detail).join('\n');
        }
        // A table this small is read whole unless told otherwise; the question is whether the index can serve the query.
        await sql`begin`.execute(connection);
        try {
          await sql`set local enable_seqscan = off`.execute(connection);
          const { rows } = await connection.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `explain ${query.sql}` });
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await sql`rollback`.execute(connection);
        }
      });
    };

    test('the failed filter reads the failed-deliveries index', async () => {
      assert.match(await planOf('failed'), /deliveries_failed/);
    });

    test("the pending filter reads the webhook's deliveries only from the oldest pending one on, found in the queue", async () => {
      const plan = await planOf('pending');
      // The queue: SQLite's due index, PostgreSQL's queue table by its key (migration 011).
      assert.match(plan, target.name === 'sqlite' ? /deliveries_due/ : /delivery_queue_pkey/, plan);
      assert.match(plan, target.name === 'sqlite' ? /deliveries_webhook \(webhook_seq=\? AND seq>\?\)/ : /Index Cond: .*webhook_seq = .*seq >= /, plan);
    });

    test('the bound follows what is pending now: nothing, then a new delivery and a retried old one; disabling fails exactly those', async () => {
      for (const [owner, delivery] of leased) await fx.store.claims.record(owner, [record(delivery, { status: 'succeeded' })], { disableAfterMs: 1e9 });
      await fx.store.deliveries.retry(account, ids[4]!); // the one waiting an hour for its retry: due now
      const [last] = await fx.store.claims.claim('q', { limit: 100, leaseMs: 60_000 });
      assert.equal(last?.id, ids[4]);
      await fx.store.claims.record('q', [record(last!, { status: 'succeeded' })], { disableAfterMs: 1e9 });
      assert.deepEqual(await fx.store.claims.queueStats(), { due: 0, oldestDueAgeSeconds: 0 }, 'nothing pending anywhere');
      assert.deepEqual(await listed('pending'), []);

      // The oldest delivery of all, retried, is pending again beside a brand-new one.
      await fx.store.deliveries.retry(account, ids[0]!);
      await fx.store.contacts.create(account, { username: 'late', phone_number: '7' });
      const pending = await listed('pending');
      assert.equal(pending.length, 2);
      assert.equal(pending[1], ids[0], 'found however old it is');
      assert.ok(!ids.includes(pending[0]!), 'and the new one, newest first');
      assert.equal((await listed('pending', neighbour)).length, 1, "the neighbour's new one");

      await fx.store.webhooks.update(account, hook, { enabled: false });
      assert.deepEqual(await listed('failed'), pending, 'disabling failed exactly the pending two');
      assert.deepEqual(await listed('pending'), []);
      assert.equal((await listed('pending', neighbour)).length, 1, "the neighbour's stays pending");
    });
  });
}
