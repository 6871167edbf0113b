// Migrations are versioned and forward-only, run at start under PostgreSQL's advisory lock, and
// by `protocol migrate`. Three processes started at once on a fresh PostgreSQL database migrate
// it once and share one default account.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { newId } from './ids.js';
import { sql } from 'kysely';
import { createStore, migrate, openDatabase, type Database } from './index.js';
import { POSTGRES_URL, adminQuery, postgresDatabase, testDatabases } from '../test-support/databases.js';
import { runCli, startProtocol } from '../test-support/process.js';
import { attemptRecord } from '../test-support/store.js';

const EXPECTED = ['001-initial', '002-webhooks', '003-sessions', '004-operations', '005-failed-deliveries-index', '006-webhook-stats', '007-notify-trigger', '008-delivery-keys', '009-notify-after-commit', '010-webhook-delivery-keys', '011-delivery-queue', '012-webhook-event-keys'];
const API_KEY = 'sk_migrations_test_0123456789';

// Probes PostgreSQL (required under CI) with the usual helper; this test makes its own database.
const reachable = await postgresDatabase();
await reachable?.drop();

describe('migrations', () => {
  test('`protocol migrate` applies every migration once, in order, then has nothing to do', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-migrate-'));
    try {
      const env = { PROTOCOL_DATABASE_URL: `sqlite:${path.join(dir, 'p.db')}` };
      const first = await runCli(['migrate'], env);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, `Applied ${EXPECTED.join(', ')}\n`);
      const second = await runCli(['migrate'], env);
      assert.equal(second.stdout, 'Database is up to date\n');
      const bad = await runCli(['migrate', '--database-url', 'mysql://nope'], {});
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--database-url is invalid: expected sqlite:<path> or postgres:\/\/…/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('three processes starting together on a fresh PostgreSQL database', { skip: !reachable && 'PostgreSQL unreachable' }, async () => {
    const name = `protocol_m_${newId().toLowerCase()}`;
    await adminQuery(`create database ${name}`);
    const url = POSTGRES_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'protocol-m-'));
    const processes = await Promise.allSettled(
      [['serve'], ['serve', '--no-worker'], ['worker']].map((args) =>
        startProtocol(args, { PROTOCOL_DATABASE_URL: url, PROTOCOL_API_KEY: API_KEY, PROTOCOL_DATA_DIR: fs.mkdtempSync(path.join(dataDir, 'process-')) }, 30_000, /running at (http:\/\/\S+)/),
      ),
    );
    try {
      const failed = processes.filter((p) => p.status === 'rejected').map((p) => String((p as PromiseRejectedResult).reason));
      assert.deepEqual(failed, []);
      const applied = await adminQuery<{ name: string }>('select name from kysely_migration order by name', url);
      assert.deepEqual(
        applied.map((r) => r.name),
        EXPECTED,
      );
      assert.equal((await adminQuery('select id from accounts', url)).length, 1, 'one default account');
      assert.equal((await adminQuery("select id from api_keys where name = 'PROTOCOL_API_KEY'", url)).length, 1, 'the known key inserted once');
      const started = processes.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []));
      const printedKeys = started.filter((p) => p.stdout().includes('Created the default account')).length;
      assert.equal(printedKeys, 1, 'exactly one process created (and printed) the default account');
      // Every process works against the one schema.
      const api = started[0]!;
      const response = await fetch(`${api.url}/v1/contacts`, { headers: { authorization: `Bearer ${API_KEY}` } });
      assert.equal(response.status, 200);
    } finally {
      await Promise.all(processes.map((p) => (p.status === 'fulfilled' ? p.value.stop() : undefined)));
      await adminQuery(`drop database if exists ${name} with (force)`);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

for (const target of await testDatabases()) {
  test(`racing starts create one default account and one PROTOCOL_API_KEY (${target.name})`, async () => {
    const database = await target.open();
    try {
      const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 1 });
      const results = await Promise.all(Array.from({ length: 6 }, () => store.accounts.ensureDefault()));
      assert.equal(new Set(results.map((r) => r.account.id)).size, 1);
      assert.equal(results.filter((r) => r.key).length, 1, 'only the creator gets the key');
      await Promise.all(Array.from({ length: 6 }, () => store.accounts.ensureKey(results[0]!.account.id, API_KEY)));
      assert.equal((await store.accounts.listKeys(results[0]!.account.id)).filter((k) => k.name === 'PROTOCOL_API_KEY').length, 1);
    } finally {
      await database.close();
      await target.drop();
    }
  });
}

/** An account `acc_<key>` with a webhook `wh_<key>` (https://example.com/<key>) and an event `evt_<key>`, as rows of any version's schema. */
async function insertAccount(database: Database, key: string): Promise<void> {
  await sql`insert into accounts (id, name, created_at) values (${`acc_${key}`}, ${key}, 0)`.execute(database.db);
  await sql`insert into webhooks (id, account_id, name, url, enabled, secret, created_at, updated_at)
    values (${`wh_${key}`}, ${`acc_${key}`}, ${key}, ${`https://example.com/${key}`}, 1, ${`whsec_${key}`}, 0, 0)`.execute(database.db);
  await sql`insert into events (id, account_id, type, body, created_at) values (${`evt_${key}`}, ${`acc_${key}`}, 'contact.created', ${JSON.stringify({ id: `evt_${key}` })}, 0)`.execute(database.db);
}

for (const target of await testDatabases()) {
  test(`an upgrade keys the deliveries already queued by their event and webhook, and they are still sent (${target.name})`, async () => {
    const database = openDatabase(target.url);
    try {
      await migrate(database, '007-notify-trigger');
      // A delivery queued before migration 008, as that version wrote it.
      await insertAccount(database, 'old');
      await sql`insert into deliveries (id, account_id, event_id, event_type, webhook_id, status, attempt_count, final_attempt, due_at, created_at, updated_at)
        values ('dlv_old', 'acc_old', 'evt_old', 'contact.created', 'wh_old', 'pending', 0, 8, 0, 0, 0)`.execute(database.db);
      assert.deepEqual(await migrate(database), ['008-delivery-keys', '009-notify-after-commit', '010-webhook-delivery-keys', '011-delivery-queue', '012-webhook-event-keys']);
      const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 8 });
      const [claimed, ...rest] = await store.claims.claim('upgraded', { limit: 10, leaseMs: 60_000 });
      assert.equal(rest.length, 0);
      assert.equal(claimed?.id, 'dlv_old');
      assert.equal(claimed?.body, '{"id":"evt_old"}');
      assert.equal(claimed?.url, 'https://example.com/old');
      // Listed through the webhook's index, rebuilt on its key (migration 010).
      assert.deepEqual((await store.deliveries.list('acc_old', 'wh_old', { limit: 10 })).data.map((d) => d.id), ['dlv_old']);
      assert.deepEqual((await store.deliveries.list('acc_old', 'wh_old', { limit: 10, status: 'pending' })).data.map((d) => d.id), ['dlv_old']);
      const keys = await sql<{ event_seq: number; webhook_seq: number; e: number; w: number }>`select event_seq, webhook_seq, (select seq from events) as e, (select seq from webhooks) as w from deliveries`.execute(database.db);
      assert.deepEqual(keys.rows.map((r) => [Number(r.event_seq), Number(r.webhook_seq)]), [[Number(keys.rows[0]!.e), Number(keys.rows[0]!.w)]]);
    } finally {
      await database.close();
      await target.drop();
    }
  });
}

for (const target of await testDatabases()) {
  test(`an upgrade to the delivery queue keeps what was due, leased and failed as it was (${target.name})`, async () => {
    const database = openDatabase(target.url);
    try {
      await migrate(database, '010-webhook-delivery-keys');
      // Three deliveries as migration 010's version wrote them: due, leased by a worker still sending it, failed for good.
      await insertAccount(database, 'q');
      const until = Date.now() + 3_600_000;
      const delivery = (id: string, status: string, attempts: number, dueAt: number | null, owner: string | null) =>
        sql`insert into deliveries (id, account_id, event_id, event_seq, event_type, webhook_id, webhook_seq, status, attempt_count, final_attempt, due_at, lease_owner, lease_expires_at, created_at, updated_at)
          select ${id}, 'acc_q', 'evt_q', (select seq from events), 'contact.created', 'wh_q', (select seq from webhooks), ${status}, ${attempts}, 8, ${dueAt}, ${owner}, ${dueAt}, 0, 7`.execute(database.db);
      await delivery('dlv_due', 'pending', 0, 0, null);
      await delivery('dlv_leased', 'pending', 1, until, 'sending');
      await delivery('dlv_failed', 'failed', 8, null, null);
      assert.deepEqual(await migrate(database), ['011-delivery-queue', '012-webhook-event-keys']);

      const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 8 });
      const listed = async (status?: 'pending' | 'failed') => (await store.deliveries.list('acc_q', 'wh_q', { limit: 10, ...(status && { status }) })).data.map((d) => d.id);
      assert.deepEqual(await listed('failed'), ['dlv_failed'], 'found through the failed index, now on failed_at');
      assert.deepEqual(await listed('pending'), ['dlv_leased', 'dlv_due']);
      assert.equal((await store.deliveries.get('acc_q', 'dlv_leased')).next_attempt_at, null, 'still in flight: none scheduled');
      const claimed = await store.claims.claim('upgraded', { limit: 10, leaseMs: 60_000 });
      assert.deepEqual(claimed.map((d) => d.id), ['dlv_due'], 'the leased one is held until its lease runs out');
      // Its lease moved with it: the worker that held it still writes its result, nobody else does.
      const [leased] = (await sql<{ seq: number }>`select seq from deliveries where id = 'dlv_leased'`.execute(database.db)).rows;
      const held = { ...claimed[0]!, id: 'dlv_leased', seq: Number(leased!.seq), attempt: 2 };
      await store.claims.record('upgraded', [attemptRecord(held, { status: 'succeeded' })], { disableAfterMs: 1e9 });
      assert.equal((await store.deliveries.get('acc_q', 'dlv_leased')).status, 'pending', 'not its lease');
      await store.claims.record('sending', [attemptRecord(held, { status: 'succeeded' })], { disableAfterMs: 1e9 });
      assert.equal((await store.deliveries.get('acc_q', 'dlv_leased')).status, 'succeeded');

      assert.deepEqual(await store.deliveries.recover('acc_q', 'wh_q', 0), { recovered: 1 });
      assert.deepEqual(await listed('failed'), []);
      const again = await store.claims.claim('upgraded', { limit: 10, leaseMs: 60_000 });
      assert.deepEqual(again.map((d) => d.id), ['dlv_failed'], 'recovered, it is due again');
    } finally {
      await database.close();
      await target.drop();
    }
  });
}

for (const target of await testDatabases()) {
  test(`an upgrade keys subscriptions by their webhook, and fan-out still finds each account's own (${target.name})`, async () => {
    const database = openDatabase(target.url);
    try {
      await migrate(database, '011-delivery-queue');
      // Two accounts whose webhooks share an id, subscribed as migration 011's version wrote it.
      await insertAccount(database, 'a');
      await insertAccount(database, 'b');
      await sql`update webhooks set id = 'wh_same'`.execute(database.db);
      const subscribe = (account: string, type: string) => sql`insert into webhook_events (account_id, type, webhook_id) values (${account}, ${type}, 'wh_same')`.execute(database.db);
      await subscribe('acc_a', 'contact.created');
      await subscribe('acc_a', 'message.created');
      await subscribe('acc_b', 'contact.deleted');
      assert.deepEqual(await migrate(database), ['012-webhook-event-keys']);

      const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 8 });
      assert.deepEqual((await store.webhooks.get('acc_a', 'wh_same')).events, ['contact.created', 'message.created']);
      assert.deepEqual((await store.webhooks.get('acc_b', 'wh_same')).events, ['contact.deleted']);
      await store.contacts.create('acc_a', { username: 'upgraded', phone_number: '1' });
      await store.contacts.create('acc_b', { username: 'upgraded', phone_number: '1' });
      const owed = async (account: string) => (await store.deliveries.list(account, 'wh_same', { limit: 10 })).data.map((d) => d.event_type);
      assert.deepEqual(await owed('acc_a'), ['contact.created']);
      assert.deepEqual(await owed('acc_b'), [], 'not subscribed to contact.created');
      // Changing and deleting the webhook change its subscriptions alone.
      await store.webhooks.update('acc_b', 'wh_same', { events: ['contact.created'] });
      await store.webhooks.delete('acc_a', 'wh_same');
      await store.contacts.create('acc_b', { username: 'again', phone_number: '2' });
      assert.deepEqual(await owed('acc_b'), ['contact.created']);
      const left = await sql<{ account_id: string; type: string }>`select account_id, type from webhook_events order by account_id, type`.execute(database.db);
      assert.deepEqual(left.rows.map((r) => ({ ...r })), [{ account_id: 'acc_b', type: 'contact.created' }]);
    } finally {
      await database.close();
      await target.drop();
    }
  });
}

test('migrating a PostgreSQL schema sees only its own tables, while other schemas are made and dropped beside it', { skip: !reachable && 'PostgreSQL unreachable' }, async () => {
  const other = `t_other_${newId().toLowerCase()}`;
  await adminQuery(`create schema ${other}; create table ${other}.accounts (id text)`);
  let churning = true;
  // Another installation's (or test file's) schemas come and go meanwhile: Kysely's own
  // introspection, which read every schema, failed with "schema … does not exist" on one
  // dropped between its reads.
  const churn = (async () => {
    for (let i = 0; churning && i < 500; i++) {
      const name = `t_churn_${newId().toLowerCase()}`;
      await adminQuery(`create schema ${name}; create table ${name}.t (id text); drop schema ${name} cascade`);
    }
  })();
  const targets = await Promise.all(Array.from({ length: 3 }, () => postgresDatabase()));
  try {
    const opened = await Promise.all(targets.map((target) => target!.open()));
    try {
      for (const database of opened) {
        const tables = await database.db.introspection.getTables({ withInternalKyselyTables: true });
        const schemas = [...new Set(tables.map((t) => t.schema))];
        assert.equal(schemas.length, 1, 'one schema: its own');
        assert.match(schemas[0]!, /^t_[0-9a-z]+$/, 'not the other one');
        assert.ok(tables.some((t) => t.name === 'kysely_migration') && tables.some((t) => t.name === 'deliveries'));
      }
    } finally {
      await Promise.all(opened.map((database) => database.close()));
    }
  } finally {
    churning = false;
    await churn;
    await Promise.all(targets.map((target) => target!.drop()));
    await adminQuery(`drop schema ${other} cascade`);
  }
});
