// A webhook's 24 h health from its hourly counters, on both databases: what counts, what does
// not, disabling, old counters, deleting the webhook, and the migration's backfill.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { attemptRecord as record, claimedPerWebhook, openStore, type StoreFixture } from '../test-support/store.js';
import { countFinishedSince, HOUR_SECONDS } from './webhook-stats.js';

for (const target of await testDatabases()) {
  describe(`webhook health on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    let a: string;
    let b: string;
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Health')).account.id;
      const [ofA, ofB] = await claimedPerWebhook(fx.store, account, ['a', 'b'], 4);
      a = ofA!.id;
      b = ofB!.id;
      const [a1, a2, a3, a4] = ofA!.claimed;
      const [b1, b2] = ofB!.claimed; // b's other two stay in flight
      await fx.store.claims.record(
        'o',
        [
          record(a1!, { status: 'succeeded' }),
          record(a2!, { status: 'succeeded' }),
          record(a3!, { status: 'succeeded' }),
          record(a4!, { status: 'pending', dueAt: Date.now() + 3_600_000 }), // a retry: not finished
          record(b1!, { status: 'succeeded' }),
          record(b2!, { status: 'failed' }),
        ],
        { disableAfterMs: 1e9 },
      );
    });
    after(() => fx.close());

    const rate = async (webhook: string) => (await fx.store.webhooks.get(account, webhook)).health.success_rate;
    const stats = (webhook: string) => sql<{ hour: number }>`select hour from webhook_stats where webhook_id = ${webhook} order by hour`.execute(fx.store.database.db);

    test('the share of finished deliveries that succeeded; a retry waiting does not count; none is null', async () => {
      assert.equal(await rate(a), 1);
      assert.equal(await rate(b), 0.5);
      const page = await fx.store.webhooks.list(account, { limit: 10 });
      assert.deepEqual(
        page.data.map((w) => [w.id, w.health.success_rate]).sort(),
        [
          [a, 1],
          [b, 0.5],
        ].sort(),
      );
      const fresh = await fx.store.webhooks.create(account, { name: 'fresh', url: 'https://example.com/f', events: ['contact.deleted'] });
      assert.equal(fresh.health.success_rate, null);
      const other = (await fx.store.accounts.create('Other health')).account.id;
      const theirs = await fx.store.webhooks.create(other, { name: 'theirs', url: 'https://example.com/t', events: ['contact.created'] });
      assert.equal((await fx.store.webhooks.get(other, theirs.id)).health.success_rate, null, "another account's counters are its own");
    });

    test('disabling counts the pending deliveries it fails, the ones in flight too', async () => {
      await fx.store.webhooks.update(account, b, { enabled: false });
      assert.equal(await rate(b), 0.25, '1 succeeded, 1 failed by its attempt, 2 failed by disabling');
      assert.equal(await rate(a), 1);
    });

    test('a delivery claimed for a webhook disabled meanwhile is dropped as failed and counted once', async () => {
      const [ofC] = await claimedPerWebhook(fx.store, account, ['c'], 1, 'before');
      await fx.store.claims.release('before', ofC!.claimed); // due again, for the claim below
      // Disabled behind the store's back (as by another process between its checks): its delivery stays pending.
      await sql`update webhooks set enabled = 0 where id = ${ofC!.id}`.execute(fx.store.database.db);
      const claimed = (await fx.store.claims.claim('late', { limit: 100, leaseMs: 60_000 })).filter((d) => d.webhookId === ofC!.id);
      assert.deepEqual(claimed.map((d) => d.webhookEnabled), [false]);
      await fx.store.claims.dropDisabled('late', claimed);
      await fx.store.claims.dropDisabled('late', claimed); // no longer held: nothing more to drop or count
      assert.equal(await rate(ofC!.id), 0);
      assert.equal((await fx.store.deliveries.list(account, ofC!.id, { status: 'failed' })).data.length, 1);
    });

    test('counters older than 24 hours do not count, and retention drops those older than 48', async () => {
      const hour = Math.floor(Date.now() / 1000 / HOUR_SECONDS);
      const { db } = fx.store.database;
      await sql`insert into webhook_stats (account_id, webhook_id, hour, succeeded, failed) values (${account}, ${a}, ${hour - 30}, 0, 100), (${account}, ${a}, ${hour - 49}, 0, 100)`.execute(db);
      assert.equal(await rate(a), 1);
      await fx.store.retention.purge(365 * 86_400);
      assert.deepEqual((await stats(a)).rows.map((r) => hour - Number(r.hour)), [30, 0]);
    });

    test("the migration's backfill counts what finished in the last day, per hour", async () => {
      const { db } = fx.store.database;
      await sql`delete from webhook_stats`.execute(db);
      assert.equal(await rate(b), null);
      const now = Math.floor(Date.now() / 1000);
      await sql`update deliveries set updated_at = ${now - 2 * 86_400} where webhook_id = ${b} and status = 'succeeded'`.execute(db);
      await countFinishedSince(db, now - 86_400);
      assert.equal(await rate(b), 0, "b's success is two days old; its three failures are today's");
      assert.equal(await rate(a), 1);
    });

    test("deleting a webhook deletes its counters", async () => {
      await fx.store.webhooks.delete(account, a);
      assert.deepEqual((await stats(a)).rows, []);
    });
  });
}
