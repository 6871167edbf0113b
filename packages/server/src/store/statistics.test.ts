// Where autovacuum leaves a PostgreSQL table alone, the worker analyzes it by autoanalyze's rule
// (statistics.ts), and the plans a connection keeps stop reading every row of the account per call.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { adminQuery, postgresDatabase, testDatabases } from '../test-support/databases.js';
import { startEngine } from '../test-support/engine.js';
import { attemptRecord, openStore } from '../test-support/store.js';
import type { Store } from './index.js';
import { AUTOANALYZE, dueForAnalyze, type TableActivity } from './statistics.js';

test("autoanalyze's rule: due once the changes exceed 50 + 10% of the rows, never where autovacuum runs", () => {
  const table = (name: string, rows: number, changed: number, autovacuumed = false): TableActivity => ({ name, rows, changed, autovacuumed });
  assert.deepEqual(
    dueForAnalyze([table('new', 0, 50), table('new-changed', 0, 51), table('big', 10_000, 1_050), table('big-changed', 10_000, 1_051), table('kept', 0, 1_000_000, true)]),
    ['new-changed', 'big-changed'],
  );
  assert.deepEqual(dueForAnalyze([table('t', 1_000, 61)], { rows: 10, fraction: 0.05 }), ['t'], "the server's thresholds, not the defaults");
  assert.deepEqual(dueForAnalyze([table('t', 1_000, 61)], AUTOANALYZE), []);
});

/** Changes each owed to one webhook, claimed and recorded at once, as a worker does at a steady rate. */
async function deliverChanges(store: Store, account: string, from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    await store.contacts.create(account, { username: `c${i}`, phone_number: String(i) });
    const claimed = await store.claims.claim('w', { limit: 64, leaseMs: 60_000 });
    assert.equal(claimed.length, 1, 'the change is owed to the one webhook');
    await store.claims.record('w', claimed.map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e12 });
  }
}

for (const target of await testDatabases()) {
  test(`tables autovacuum leaves alone are analyzed as they grow, and results stop reading the account's every delivery (${target.name})`, async () => {
    // One connection: its prepared statements are the ones whose plans are counted.
    const fixture = await openStore(target, { poolSize: 1 });
    const { store } = fixture;
    try {
      const { db } = store.database;
      const account = (await store.accounts.create('One')).account.id;
      await store.webhooks.create(account, { name: 'w', url: 'https://example.com/w', events: ['contact.created'] });
      if (target.name === 'sqlite') {
        await deliverChanges(store, account, 0, 60);
        assert.deepEqual(await store.statistics.refresh(), [], "SQLite's planner keeps no statistics to refresh");
        return;
      }

      // Left to this test whatever the server's autovacuum does: off for every table of the schema.
      const tables = (await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(db)).rows.map((r) => r.name);
      for (const name of tables) await sql`alter table ${sql.table(name)} set (autovacuum_enabled = false)`.execute(db);
      assert.deepEqual(await store.statistics.refresh(), [], 'nothing has changed yet past the threshold');

      const schema = (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
      const read = async () => {
        await sql`select pg_stat_force_next_flush()`.execute(db); // reported as the connection goes idle after it
        const rows = await adminQuery<{ read: string }>(`select coalesce(sum(idx_tup_read), 0) as read from pg_stat_user_indexes where schemaname = '${schema}' and relname = 'deliveries'`);
        return Number(rows[0]!.read);
      };

      // 100 changes: the connection's statements settle on their generic plans while the tables
      // hold a few rows, and the results' plan reads every delivery of the account per result.
      await deliverChanges(store, account, 0, 100);
      const early = await read();
      await deliverChanges(store, account, 100, 50);
      const unanalyzed = (await read()) - early;
      assert.ok(unanalyzed > 50 * 50, `without statistics, 50 results read ${unanalyzed} delivery index entries: most of the account's deliveries each`);

      const analyzed = await store.statistics.refresh();
      for (const name of ['contacts', 'deliveries', 'events', 'attempts']) assert.ok(analyzed.includes(name), `${name} analyzed: ${analyzed.join(', ')}`);
      const stats = await adminQuery<{ name: string }>(`select relname as name from pg_stat_user_tables where schemaname = '${schema}' and last_analyze is not null`);
      assert.ok(stats.some((r) => r.name === 'deliveries'), 'PostgreSQL records the analysis');
      assert.deepEqual(await store.statistics.refresh(), [], 'analyzed again only after further changes');

      const before = await read();
      await deliverChanges(store, account, 150, 50);
      const after = (await read()) - before;
      assert.ok(after <= 50 * 3, `after the analysis 50 results read ${after} delivery index entries: a few each, by key`);
    } finally {
      await fixture.close();
    }
  });
}

// PostgreSQL's alone; its schema is made here and dropped by the engine.
const postgres = await postgresDatabase();
if (postgres) {
  test('a PostgreSQL worker analyzes the tables autovacuum leaves alone on its own, as they change', async () => {
    const engine = await startEngine({}, { target: postgres, statistics: { firstAfterMs: 50, everyMs: 50 } });
    try {
      const { db } = engine.server.store.database;
      await sql`alter table contacts set (autovacuum_enabled = false)`.execute(db);
      const schema = (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
      const analyzedAt = async () =>
        (await adminQuery<{ at: Date | null }>(`select last_analyze as at from pg_stat_user_tables where schemaname = '${schema}' and relname = 'contacts'`))[0]?.at ?? null;
      let created = 0;
      const create = async () => assert.equal((await engine.api('POST', '/contacts', { username: `c${created}`, phone_number: String(created++) })).status, 201);
      while (created < 60) await create();
      // Changes keep coming meanwhile: a PostgreSQL connection reports what it changed at most once
      // a second while it works, and only after 10 s once it idles (PGSTAT_IDLE_INTERVAL).
      const deadline = Date.now() + 30_000;
      while ((await analyzedAt()) === null) {
        assert.ok(Date.now() < deadline, `contacts analyzed within 30 s of its first 60 changes (${created} made)`);
        await create();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await engine.close();
    }
  });
}
