// Deleting a webhook, on both databases: its deliveries and their attempts go, nobody else's do,
// and (SQLite) its attempts are found through its deliveries, not by reading the account's.
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { attemptRecord, claimedPerWebhook, openStore, queueLength, webhookKey, type StoreFixture } from '../test-support/store.js';
import { deleteAttemptsOf } from './webhooks.js';

for (const target of await testDatabases()) {
  describe(`deleting a webhook on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    let other: string;
    let webhooks: Record<'gone' | 'kept' | 'theirs', string>;
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Deleting')).account.id;
      other = (await fx.store.accounts.create('Beside')).account.id;
      // Two changes owed to each webhook, every delivery attempted once (a retry due later, so the
      // deliveries stay and the attempts are all there is to tell them apart by).
      const mine = await claimedPerWebhook(fx.store, account, ['gone', 'kept'], 2);
      const theirs = await claimedPerWebhook(fx.store, other, ['theirs'], 2);
      const claimed = [...mine, ...theirs].flatMap((w) => w.claimed);
      assert.equal(claimed.length, 6);
      await fx.store.claims.record('o', claimed.map((d) => attemptRecord(d, { status: 'pending', dueAt: Date.now() + 3_600_000 })), { disableAfterMs: 1e9 });
      webhooks = { gone: mine[0]!.id, kept: mine[1]!.id, theirs: theirs[0]!.id };
    });
    after(() => fx.close());

    const counts = async (webhookId: string) => {
      const db = fx.store.database.db;
      const attempts = await sql<{ n: number }>`select count(*) as n from attempts where webhook_id = ${webhookId}`.execute(db);
      const deliveries = await sql<{ n: number }>`select count(*) as n from deliveries where webhook_id = ${webhookId}`.execute(db);
      return { attempts: Number(attempts.rows[0]!.n), deliveries: Number(deliveries.rows[0]!.n) };
    };

    test('its deliveries and their attempts go; the account\'s other webhook\'s and another account\'s stay', async () => {
      for (const id of Object.values(webhooks)) assert.deepEqual(await counts(id), { attempts: 2, deliveries: 2 }, id);
      assert.equal(await queueLength(fx.store.database.db), 6, 'every delivery waits for its retry');
      await fx.store.webhooks.delete(account, webhooks.gone);
      assert.equal(await queueLength(fx.store.database.db), 4, "its two left the queue with them; nothing of theirs is left to claim");
      assert.deepEqual(await counts(webhooks.gone), { attempts: 0, deliveries: 0 });
      assert.deepEqual(await counts(webhooks.kept), { attempts: 2, deliveries: 2 });
      assert.deepEqual(await counts(webhooks.theirs), { attempts: 2, deliveries: 2 });
      await assert.rejects(fx.store.webhooks.get(account, webhooks.gone), { code: 'not_found' });
    });

    test("another account's webhook cannot be deleted by id, and keeps everything", async () => {
      await assert.rejects(fx.store.webhooks.delete(account, webhooks.theirs), { code: 'not_found' });
      assert.deepEqual(await counts(webhooks.theirs), { attempts: 2, deliveries: 2 });
    });

    if (target.name === 'sqlite') {
      test('the attempts are found through the webhook\'s deliveries, by index, without reading the account\'s attempts', async () => {
        const { sql: text, parameters } = deleteAttemptsOf(fx.store.database.db, account, await webhookKey(fx.store.database.db, webhooks.kept)).compile();
        const plan = await fx.store.database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, [...parameters]));
        const steps = plan.rows.map((r) => r.detail);
        assert.ok(steps.some((s) => /^SEARCH attempts USING (COVERING )?INDEX attempts_delivery \(account_id=\? AND delivery_id=\?\)/.test(s)), steps.join('\n'));
        assert.ok(steps.some((s) => /^SEARCH deliveries USING INDEX deliveries_webhook \(webhook_seq=\?\)/.test(s)), steps.join('\n'));
        assert.ok(!steps.some((s) => /^SCAN attempts/.test(s)), steps.join('\n'));
      });
    }
  });
}
