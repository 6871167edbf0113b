// Fan-out's lookup of an event's subscribed webhooks finds each one by its key, on both
// databases, however many webhooks the account has and whatever the planner knows of the tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { adminQuery, testDatabases } from '../test-support/databases.js';
import { openStore, queueLength } from '../test-support/store.js';
import { subscribed, subscribedToSend } from './fanout.js';

const WEBHOOKS = 300;
/** Subscribed to contact.created and enabled: every third webhook (one disabled webhook is subscribed too). */
const SUBSCRIBED = WEBHOOKS / 3;

for (const target of await testDatabases()) {
  test(`fan-out reads each subscribed webhook once, by key, for an account of ${WEBHOOKS} webhooks without statistics (${target.name})`, async () => {
    // One connection, so the rows PostgreSQL counts are the ones this test's changes read.
    const fixture = await openStore(target, { poolSize: 1 });
    const { store } = fixture;
    try {
      const { db } = store.database;
      if (target.name === 'postgres') for (const table of ['webhooks', 'webhook_events']) await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(db);
      const account = (await store.accounts.create('Many')).account.id;
      const other = (await store.accounts.create('Other')).account.id;
      const ids: string[] = [];
      for (let i = 0; i < WEBHOOKS; i++) {
        const events = i % 3 === 0 ? (['contact.created', 'message.created'] as const) : (['message.created'] as const);
        ids.push((await store.webhooks.create(account, { name: `w${i}`, url: `https://example.com/${i}`, events: [...events] })).id);
      }
      const disabled = await store.webhooks.create(account, { name: 'off', url: 'https://example.com/off', events: ['contact.created'] });
      await store.webhooks.update(account, disabled.id, { enabled: false });
      // Another account's webhook, subscribed to the same type: not this account's to owe.
      await store.webhooks.create(other, { name: 'elsewhere', url: 'https://example.com/elsewhere', events: ['contact.created'] });

      for (const lookup of [subscribed, subscribedToSend]) {
        const query = lookup.query(db, { account, type: 'contact.created' });
        const { rows } = await db.executeQuery<{ id: string }>(query);
        assert.deepEqual(new Set(rows.map((row) => row.id)), new Set(ids.filter((_, i) => i % 3 === 0)), 'the enabled webhooks subscribed to the type, none of another account');
        if (target.name === 'sqlite') {
          const plan = (await db.executeQuery<{ detail: string }>({ ...query, sql: `explain query plan ${query.sql}` })).rows.map((row) => row.detail).join('\n');
          assert.match(plan, /SEARCH webhook_events USING COVERING INDEX \S+ \(account_id=\? AND type=\?\)/, plan);
          assert.match(plan, /SEARCH webhooks USING INTEGER PRIMARY KEY \(rowid=\?\)/, plan);
        }
      }
      if (target.name !== 'postgres') return;

      // PostgreSQL, changes as the API writes them: the webhooks rows its server reads, as it
      // counts them, over enough changes for the connection's prepared lookup to settle on its
      // generic plan. Left to the planner, which took the subscriptions for one row, it read
      // every webhook once per subscription: ~150 rows each here, growing with the square.
      const schema = (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
      const read = async () => {
        await sql`select pg_stat_force_next_flush()`.execute(db); // reported as the connection goes idle after it
        const [row] = await adminQuery<{ seq: string; fetched: string }>(`select seq_tup_read as seq, idx_tup_fetch as fetched from pg_stat_user_tables where schemaname = '${schema}' and relname = 'webhooks'`);
        return { seq: Number(row!.seq), fetched: Number(row!.fetched) };
      };
      const CHANGES = 8;
      const before = await read();
      for (let i = 0; i < CHANGES; i++) await store.contacts.create(account, { username: `c${i}`, phone_number: String(i) });
      const after = await read();
      assert.equal(after.seq - before.seq, 0, 'no webhook read by a sequential scan');
      assert.equal(after.fetched - before.fetched, CHANGES * (SUBSCRIBED + 1), "one webhooks row per subscription and change, the disabled one's included");
      assert.equal((await store.deliveries.list(account, ids[0]!, { limit: 100 })).data.length, CHANGES, 'each change owed to the subscribed webhook');
    } finally {
      await fixture.close();
    }
  });
}

for (const target of await testDatabases()) {
  test(`a change for more webhooks than one SQLite statement takes owes each webhook one delivery, all claimable (${target.name})`, async () => {
    const fx = await openStore(target);
    try {
      const account = (await fx.store.accounts.create('Wide')).account.id;
      const many = 520; // SQLite inserts 500 rows a statement; PostgreSQL all of them in one
      const ids: string[] = [];
      for (let i = 0; i < many; i += 40) {
        const made = await Promise.all(Array.from({ length: 40 }, (_, j) => fx.store.webhooks.create(account, { name: `w${i + j}`, url: `https://example.com/${i + j}`, events: ['contact.created'] })));
        ids.push(...made.map((w) => w.id));
      }
      await fx.store.contacts.create(account, { username: 'wide', phone_number: '1' });
      const claimed = await fx.store.claims.claim('wide', { limit: 1000, leaseMs: 60_000 });
      assert.equal(claimed.length, many, 'every delivery claimable');
      assert.equal(new Set(claimed.map((d) => d.id)).size, many, 'each with an id of its own');
      assert.deepEqual(claimed.map((d) => d.webhookId).sort(), [...ids].sort(), 'one per webhook');
      assert.ok(claimed.every((d) => d.eventType === 'contact.created' && d.attempt === 1 && d.url.startsWith('https://example.com/')));
      assert.equal(new Set(claimed.map((d) => d.seq)).size, many, 'each by its own key');
      assert.equal(await queueLength(fx.store.database.db), many, 'each queued (PostgreSQL: with its queue row)');
      assert.deepEqual(await fx.store.claims.claim('other', { limit: 1000, leaseMs: 60_000 }), [], 'leased once');
    } finally {
      await fx.close();
    }
  });
}
