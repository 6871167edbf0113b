// Fan-out and claiming, conformance on both databases.
import assert from 'node:assert/strict';
import net from 'node:net';
import { sql, type Kysely } from 'kysely';
import { after, before, describe, test } from 'node:test';
import { adminQuery, POSTGRES_URL, postgresDatabase, testDatabases } from '../test-support/databases.js';
import { deliveryNotifier, NOTIFY_TIMEOUT_MS } from './dialects/postgres.js';
import { attemptRecord as record, countNotifies, notificationsReach, openStore, queueLength, type StoreFixture } from '../test-support/store.js';
import { createStore, refusedData, type AttemptRecord } from './index.js';
import { leasePostgres } from './lease.js';
import { BEGIN_PINNED } from './pinned.js';
import type { Tables } from './schema.js';

for (const target of await testDatabases()) {
  describe(`fan-out and claims on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Hooks')).account.id;
    });
    after(() => fx.close());
    const drain = async () => {
      for (;;) {
        const claimed = await fx.store.claims.claim('drain', { limit: 100, leaseMs: 60_000 });
        if (claimed.length === 0) return;
        await fx.store.claims.record('drain', claimed.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      }
    };

    test('one delivery per enabled, subscribed webhook, in the event transaction; none for a rolled-back change', async () => {
      const url = 'https://example.com/hook';
      const a = await fx.store.webhooks.create(account, { name: 'a', url, events: ['contact.created', 'contact.deleted'] });
      const b = await fx.store.webhooks.create(account, { name: 'b', url, events: ['contact.created'] });
      const off = await fx.store.webhooks.create(account, { name: 'off', url, events: ['contact.created'] });
      await fx.store.webhooks.update(account, off.id, { enabled: false });
      const otherType = await fx.store.webhooks.create(account, { name: 'other type', url, events: ['group.created'] });
      const otherAccount = (await fx.store.accounts.create('Other')).account.id;
      await fx.store.webhooks.create(otherAccount, { name: 'theirs', url, events: ['contact.created'] });

      const contact = await fx.store.contacts.create(account, { username: 'fan', phone_number: '1' });
      const claimed = await fx.store.claims.claim('w1', { limit: 100, leaseMs: 60_000 });
      assert.deepEqual(claimed.map((d) => d.webhookId).sort(), [a.id, b.id].sort());
      const event = JSON.parse(claimed[0]!.body);
      assert.equal(event.type, 'contact.created');
      assert.equal(event.payload.id, contact.id);
      assert.equal(claimed[0]!.body, claimed[1]!.body, 'both deliveries carry the one stored body');
      assert.deepEqual(claimed.map((d) => d.attempt), [1, 1]);
      assert.equal(claimed[0]!.finalAttempt, 4);
      assert.equal(claimed[0]!.secrets.length, 1);
      await fx.store.claims.record('w1', claimed.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });

      await assert.rejects(fx.store.groups.create(account, { name: 'x', contacts: ['missing'] }));
      assert.deepEqual(await fx.store.claims.claim('w1', { limit: 100, leaseMs: 60_000 }), [], 'a rolled-back change queues nothing');
      await fx.store.webhooks.delete(account, a.id);
      await fx.store.webhooks.delete(account, b.id);
      await fx.store.webhooks.delete(account, off.id);
      await fx.store.webhooks.delete(account, otherType.id);
    });

    test('concurrent claims get disjoint deliveries; leases expire; release gives them back', async () => {
      await drain();
      const webhook = await fx.store.webhooks.create(account, { name: 'claims', url: 'https://example.com/c', events: ['message.created'] });
      const contact = await fx.store.contacts.create(account, { username: 'claims', phone_number: '1' });
      for (let i = 0; i < 30; i++) await fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: `m${i}` });
      const [x, y, z] = await Promise.all(['x', 'y', 'z'].map((owner) => fx.store.claims.claim(owner, { limit: 12, leaseMs: 60_000 })));
      const ids = [...x!, ...y!, ...z!].map((d) => d.id);
      assert.equal(ids.length, 30);
      assert.equal(new Set(ids).size, 30, 'no delivery is claimed twice');
      assert.deepEqual(await fx.store.claims.claim('late', { limit: 100, leaseMs: 60_000 }), [], 'leased deliveries are not claimable');

      await fx.store.claims.release('x', x!);
      const reclaimed = await fx.store.claims.claim('late', { limit: 100, leaseMs: 1 });
      assert.deepEqual(reclaimed.map((d) => d.id).sort(), x!.map((d) => d.id).sort());
      await new Promise((resolve) => setTimeout(resolve, 10));
      const afterExpiry = await fx.store.claims.claim('rescuer', { limit: 100, leaseMs: 60_000 });
      assert.equal(afterExpiry.length, x!.length, 'an expired lease is taken over');
      // The old owner's late result does not overwrite the new owner's state.
      await fx.store.claims.record('late', [record(reclaimed[0]!, { status: 'failed' }, 500)], { disableAfterMs: 1e9 });
      const detail = await fx.store.deliveries.get(account, reclaimed[0]!.id);
      assert.equal(detail.status, 'pending');
      assert.equal(detail.attempts.length, 1, 'the attempt itself is still logged');
      await fx.store.claims.record('rescuer', afterExpiry.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      await fx.store.claims.record('y', y!.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      await fx.store.claims.record('y', z!.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      assert.equal((await fx.store.deliveries.list(account, webhook.id, { status: 'succeeded', limit: 100 })).data.length, 30 - z!.length, "only the lease holder's results change a delivery");
      await fx.store.claims.record('z', z!.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      assert.equal((await fx.store.deliveries.list(account, webhook.id, { status: 'succeeded', limit: 100 })).data.length, 30);
    });

    test('a batch of results longer than a statement takes on SQLite (32 rows) is recorded whole, on both databases', async () => {
      await drain();
      const account = (await fx.store.accounts.create('Batches')).account.id; // its own: no other account's webhooks
      const hooks = await Promise.all(['b1', 'b2', 'b3'].map((name) => fx.store.webhooks.create(account, { name, url: `https://example.com/${name}`, events: ['message.created'] })));
      const { conversation_id } = await fx.store.contacts.create(account, { username: 'batch', phone_number: '5' });
      for (let i = 0; i < 50; i++) await fx.store.messages.send(account, { conversation_id: conversation_id!, message: `m${i}` });
      const claimed = await fx.store.claims.claim('big', { limit: 200, leaseMs: 60_000 });
      assert.equal(claimed.length, 150);
      const failed = new Set(claimed.slice(-7).map((d) => d.id)); // the last rows land in the last chunk
      await fx.store.claims.record('big', claimed.map((d) => record(d, failed.has(d.id) ? { status: 'failed' } : { status: 'succeeded' })), { disableAfterMs: 1e9 });
      for (const hook of hooks) {
        const all = (await fx.store.deliveries.list(account, hook.id, { limit: 100 })).data;
        assert.equal(all.length, 50);
        for (const delivery of all) {
          assert.equal(delivery.status, failed.has(delivery.id) ? 'failed' : 'succeeded', delivery.id);
          assert.equal(delivery.attempt_count, 1, `${delivery.id} counts its attempt`);
        }
      }
      const { rows } = await sql<{ n: number }>`select count(*) as n from attempts where account_id = ${account} and delivery_id in (${sql.join(claimed.map((d) => d.id))})`.execute(fx.store.database.db);
      assert.equal(Number(rows[0]!.n), 150, 'one attempt row each');
    });

    test('a retry is not claimable before it is due; the exclusion list skips saturated webhooks', async () => {
      await drain();
      const slow = await fx.store.webhooks.create(account, { name: 'slow', url: 'https://example.com/s', events: ['group.created'] });
      const fast = await fx.store.webhooks.create(account, { name: 'fast', url: 'https://example.com/f', events: ['group.created'] });
      await fx.store.groups.create(account, { name: 'due' });
      const onlyFast = await fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000, exclude: [slow.id] });
      assert.deepEqual(onlyFast.map((d) => d.webhookId), [fast.id]);
      const slowOne = await fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000 });
      assert.deepEqual(slowOne.map((d) => d.webhookId), [slow.id]);
      const dueAt = Date.now() + 60_000;
      await fx.store.claims.record('w', [record(slowOne[0]!, { status: 'pending', dueAt }, 500)], { disableAfterMs: 1e9 });
      assert.deepEqual(await fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000, exclude: [fast.id] }), []);
      assert.deepEqual(await fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000 }), [], 'a leased delivery is not claimable, even unexcluded');
      assert.equal((await fx.store.claims.queueStats()).due, 0, 'a leased delivery in flight is not waiting');
      const leaseEnds = await fx.store.claims.nextDueAt();
      assert.ok(leaseEnds! <= dueAt && leaseEnds! > Date.now() + 50_000, 'an idle worker would wake when the lease runs out');
      await fx.store.claims.record('w', onlyFast.map((d) => record(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      assert.equal(await fx.store.claims.nextDueAt(), dueAt);
      const stats = await fx.store.claims.queueStats();
      assert.equal(stats.due, 0, 'a delivery waiting for its retry is not due');
      const detail = await fx.store.deliveries.get(account, slowOne[0]!.id);
      assert.equal(detail.next_attempt_at, Math.ceil(dueAt / 1000));
      assert.equal(detail.attempt_count, 1);
    });

    test('a retry asked for while an attempt is in flight takes the delivery back: due now, the old lease\'s result not written', async () => {
      await drain();
      await fx.store.webhooks.create(account, { name: 'retried', url: 'https://example.com/r', events: ['contact.updated'] });
      const contact = await fx.store.contacts.create(account, { username: 'retried', phone_number: '9' });
      await fx.store.contacts.update(account, contact.id, { display_name: 'R' });
      const [held] = await fx.store.claims.claim('first', { limit: 10, leaseMs: 60_000 });
      assert.equal((await fx.store.deliveries.get(account, held!.id)).next_attempt_at, null, 'in flight: none scheduled');
      const queued = await queueLength(fx.store.database.db); // earlier tests' retries wait there too

      const retried = await fx.store.deliveries.retry(account, held!.id);
      assert.ok(retried.next_attempt_at !== null && retried.next_attempt_at <= Math.ceil(Date.now() / 1000));
      const [again] = await fx.store.claims.claim('second', { limit: 10, leaseMs: 60_000 });
      assert.equal(again?.id, held!.id, 'due at once, for any worker');
      await fx.store.claims.record('first', [record(held!, { status: 'failed' })], { disableAfterMs: 1e9 });
      assert.equal((await fx.store.deliveries.get(account, held!.id)).status, 'pending', "the first lease's late result is not written");
      await fx.store.claims.record('second', [record(again!, { status: 'succeeded' })], { disableAfterMs: 1e9 });
      assert.equal((await fx.store.deliveries.get(account, held!.id)).status, 'succeeded');
      assert.equal(await queueLength(fx.store.database.db), queued - 1, 'and it left the queue');
    });

    test("a failure starts a webhook's failure streak, later failures keep its start, a success ends it, all within one second", async () => {
      await drain();
      const webhook = await fx.store.webhooks.create(account, { name: 'streak', url: 'https://example.com/streak', events: ['group.updated'] });
      const group = await fx.store.groups.create(account, { name: 'streak' });
      const state = () => fx.store.database.db.selectFrom('webhooks').select(['failing_since', 'last_attempt_at']).where('id', '=', webhook.id).executeTakeFirstOrThrow();
      const attempt = async (outcome: AttemptRecord['outcome'], startedAt: number) => {
        await fx.store.groups.update(account, group.id, { name: `n${startedAt}` });
        const claimed = (await fx.store.claims.claim('streak', { limit: 100, leaseMs: 60_000 })).filter((d) => d.webhookId === webhook.id);
        assert.equal(claimed.length, 1);
        await fx.store.claims.record('streak', [{ ...record(claimed[0]!, outcome, 500), startedAt }], { disableAfterMs: 1e9 });
      };
      const second = Math.floor(Date.now() / 1000) * 1000; // every attempt in the same second
      await attempt({ status: 'failed' }, second + 100);
      assert.deepEqual(await state(), { failing_since: second + 100, last_attempt_at: second / 1000 });
      await attempt({ status: 'failed' }, second + 200);
      assert.equal((await state()).failing_since, second + 100, 'the streak keeps its first failure');
      await attempt({ status: 'succeeded' }, second + 300);
      assert.deepEqual(await state(), { failing_since: null, last_attempt_at: second / 1000 }, 'a success ends the streak, though nothing else changed');
      await attempt({ status: 'failed' }, second + 400);
      assert.equal((await state()).failing_since, second + 400, 'a new streak starts');
      await attempt({ status: 'succeeded' }, second + 1500);
      assert.deepEqual(await state(), { failing_since: null, last_attempt_at: second / 1000 + 1 });
    });

    test('a batch of 70 results is written whole, every value exactly, nulls, quotes, backslashes and control characters included (one statement per table on PostgreSQL, chunks on SQLite); a NUL character, which PostgreSQL text cannot hold, is kept as U+FFFD on both', async () => {
      await drain();
      const webhook = await fx.store.webhooks.create(account, { name: 'batch', url: 'https://example.com/batch', events: ['contact.created'] });
      for (let i = 0; i < 70; i++) await fx.store.contacts.create(account, { username: `batch-${i}`, phone_number: `${i}` });
      const claimed = await fx.store.claims.claim('batch', { limit: 100, leaseMs: 60_000 });
      assert.equal(claimed.length, 70);
      const awkward = 'a "quoted" \\ back\\slash, {braces}, NULL, a\ttab,\r\nnew line, \u0001 and émoji 🎉';
      // A receiver's answer may hold NUL bytes: on PostgreSQL that one value failed the whole batch's write, again at every retry.
      const withNul = (i: number) => `${awkward} \u0000${i}\u0000`;
      const kept = (i: number) => `${awkward} \uFFFD${i}\uFFFD`;
      const records = claimed.map((d, i) => ({
        ...record(d, i % 2 ? { status: 'succeeded' } : { status: 'pending', dueAt: Date.now() + 60_000 }, i % 2 ? 200 : 503),
        requestHeadersJson: JSON.stringify({ note: awkward, i }),
        responseHeadersJson: i % 3 ? '{}' : null,
        responseBody: i % 5 ? withNul(i) : null,
        error: i % 2 ? null : `HTTP 503 \u0000${i}`,
      }));
      await fx.store.claims.record('batch', records, { disableAfterMs: 1e9 });
      for (const [i, d] of claimed.entries()) {
        const detail = await fx.store.deliveries.get(account, d.id);
        assert.equal(detail.status, i % 2 ? 'succeeded' : 'pending');
        assert.equal(detail.attempt_count, 1);
        assert.deepEqual(detail.attempts.map((a) => [a.status_code, a.request_headers, a.response_headers, a.response_body, a.error]), [
          [i % 2 ? 200 : 503, { note: awkward, i }, i % 3 ? {} : null, i % 5 ? kept(i) : null, i % 2 ? null : `HTTP 503 \uFFFD${i}`],
        ]);
      }
      const stats = await fx.store.database.db.selectFrom('webhook_stats').select(['succeeded', 'failed']).where('webhook_id', '=', webhook.id).execute();
      assert.deepEqual(stats.map((r) => [Number(r.succeeded), Number(r.failed)]), [[35, 0]], 'the 35 successes counted; the retries have not finished');
      await fx.store.webhooks.update(account, webhook.id, { enabled: false }); // the next tests' changes are not its
    });

    test("the database's refusals of a statement's data are told apart from failures to run it (the result writer drops only the former)", async () => {
      const { db } = fx.store.database;
      const failure = (run: () => Promise<unknown>) => run().then(() => assert.fail('the statement ran'), (error: unknown) => error);
      const duplicate = await failure(() => db.insertInto('accounts').values({ id: account, name: 'again', created_at: 0 } as never).execute());
      assert.ok(refusedData(duplicate), `a duplicate key: ${String(duplicate)}`);
      if (target.name === 'postgres') {
        const nul = await failure(() => sql`select cast(${'a\u0000b'} as text)`.execute(db));
        assert.ok(refusedData(nul), `a NUL in text: ${String(nul)}`);
      }
      assert.ok(!refusedData(await failure(() => sql`select * from no_such_table`.execute(db))), 'a statement that cannot run');
      const closed = createStore(await target.open(), { fileUrl: () => '', attemptsPerDelivery: 4 });
      await closed.close(); // this handle only: the database stays, for the next tests
      assert.ok(!refusedData(await failure(() => closed.accounts.create('closed'))), 'a closed database');
      assert.ok(!refusedData(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    });

    test('a commit that queues deliveries notifies listeners in other processes, and so do a retry and a release; a rollback does not', { skip: target.name === 'sqlite' && 'SQLite has one writer process' }, async () => {
      const notifies = countNotifies(fx.store);
      let notified = 0;
      const unlisten = await fx.store.database.listenForDeliveries!(() => notified++);
      try {
        const webhook = await fx.store.webhooks.create(account, { name: 'notify', url: 'https://example.com/n', events: ['contact.updated'] });
        const contact = await fx.store.contacts.create(account, { username: 'notify', phone_number: '1' });
        await assert.rejects(fx.store.contacts.update(account, 'missing', { display_name: 'x' }));
        assert.equal(notifies.count(), 0, 'no deliveries were queued, so nobody is woken');
        const before = notified;
        await fx.store.contacts.update(account, contact.id, { display_name: 'x' });
        assert.equal(notifies.count(), 1, 'the commit that inserted the deliveries notified, once');
        await notificationsReach(() => notified, before + 1);
        assert.ok(notified > before, 'a listener on another connection heard it');
        // A delivery made due again by an update notifies too.
        const [delivery] = (await fx.store.deliveries.list(account, webhook.id, {})).data;
        await fx.store.deliveries.retry(account, delivery!.id);
        assert.equal(notifies.count(), 2);
        // So does a worker giving back what it holds (shutdown): the others take it at once.
        const held = await fx.store.claims.claim('leaving', { limit: 100, leaseMs: 60_000 });
        assert.ok(held.some((d) => d.id === delivery!.id));
        assert.equal(notifies.count(), 2, 'a claim wakes nobody');
        await fx.store.claims.release('leaving', held);
        assert.equal(notifies.count(), 3, 'the release notified, once');
        await fx.store.claims.release('leaving', held);
        assert.equal(notifies.count(), 3, 'nothing was held any more: nothing to announce');
      } finally {
        notifies.restore();
        await unlisten();
      }
    });
  });
}

/** PostgreSQL: queues the pending deliveries a test inserted by hand, as fan-out does (migration 011). */
const queueAll = (db: Kysely<Tables>) =>
  sql`insert into delivery_queue (seq, webhook_id, due_at) select seq, webhook_id, due_at from deliveries where status = 'pending' on conflict do nothing`.execute(db);

// A probe only (each test makes a schema of its own): its schema is dropped at once, not leaked.
const postgres = await postgresDatabase();
await postgres?.drop();
describe('claim plan on postgres', { skip: postgres ? false : 'PostgreSQL unreachable' }, () => {
  test('a claim walks the due index in order however stale the statistics, not every due row', async () => {
    const fx = await openStore((await postgresDatabase())!); // its own schema: close() drops it
    try {
      const { db } = fx.store.database;
      // Statistics from when nothing was pending (a fresh install), then a backlog autovacuum has not seen yet.
      await sql`alter table delivery_queue set (autovacuum_enabled = false)`.execute(db);
      await sql`analyze delivery_queue`.execute(db);
      await sql`insert into deliveries (id, account_id, event_id, event_type, webhook_id, status, attempt_count, final_attempt, due_at, created_at, updated_at)
        select 'backlog' || g, 'a', 'e', 'contact.created', 'w', 'pending', 0, 1, g, 0, 0 from generate_series(1, 5000) g`.execute(db);
      await queueAll(db);
      const plan = (pinned: boolean) =>
        db.connection().execute(async (connection) => {
          await sql.raw(pinned ? BEGIN_PINNED : 'begin').execute(connection);
          const query = leasePostgres.query(connection, { owner: 'plan', until: Date.now() + 60_000, now: Date.now(), limit: 64, exclude: [] });
          const { rows } = await connection.executeQuery<{ 'QUERY PLAN': string }>({ ...query, sql: `explain ${query.sql}` });
          await sql.raw('rollback').execute(connection);
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        });
      assert.match(await plan(false), /Seq Scan on delivery_queue/, 'left to the stale statistics, the planner reads the whole queue to lease 64 of it');
      const pinned = await plan(true);
      assert.match(pinned, /Index Scan using delivery_queue_due/);
      assert.doesNotMatch(pinned, /Bitmap|Seq Scan/, pinned);
    } finally {
      await fx.close();
    }
  });

  test("a claim finds each delivery's event and webhook by primary key, however many the account has and however stale the statistics", async () => {
    const fx = await openStore((await postgresDatabase())!); // its own schema: close() drops it
    try {
      const { db } = fx.store.database;
      const account = (await fx.store.accounts.create('Busy')).account.id;
      for (let i = 0; i < 20; i++) await fx.store.webhooks.create(account, { name: `w${i}`, url: `https://example.com/${i}`, events: ['contact.created'] });
      // A busy account's history that no statistics describe yet (a new installation, or autovacuum off): 1,000 events × 20 webhooks, all due.
      for (const table of ['events', 'deliveries', 'delivery_queue', 'webhooks']) await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(db);
      await sql`insert into events (id, account_id, type, body, created_at) select 'evt_' || g, ${account}, 'contact.created', '{}', 0 from generate_series(1, 1000) g`.execute(db);
      await sql`insert into deliveries (id, account_id, event_id, event_seq, event_type, webhook_id, webhook_seq, status, attempt_count, final_attempt, due_at, created_at, updated_at)
        select 'dlv_' || e.seq || '_' || w.seq, e.account_id, e.id, e.seq, e.type, w.id, w.seq, 'pending', 0, 1, e.seq, 0, 0 from events e cross join webhooks w`.execute(db);
      await queueAll(db);

      // The plan a worker's connection settles on after a few claims: the generic one, the same for every claim.
      const plan = await db.connection().execute(async (connection) => {
        await sql.raw(`${BEGIN_PINNED}; set local plan_cache_mode = force_generic_plan`).execute(connection);
        const query = leasePostgres.query(connection, { owner: 'plan', until: Date.now() + 60_000, now: Date.now(), limit: 64, exclude: [] });
        const literal = (v: unknown) => (typeof v === 'number' ? String(v) : Array.isArray(v) ? `'{${v.join(',')}}'` : `'${String(v)}'`);
        await sql.raw(`prepare claim_plan as ${query.sql}`).execute(connection);
        try {
          const { rows } = await sql.raw<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off) execute claim_plan(${query.parameters.map(literal).join(', ')})`).execute(connection);
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await sql.raw('rollback; deallocate claim_plan').execute(connection);
        }
      });
      assert.match(plan, /Sort \(actual rows=64 loops=1\)/, 'the claim took 64');
      // By key, at most once per claimed delivery (PostgreSQL may remember the rows it read: Memoize).
      for (const table of ['deliveries', 'events', 'webhooks']) {
        const loops = plan.match(new RegExp(`Index Scan using \\w+ on ${table} \\(actual rows=1 loops=(\\d+)\\)`));
        assert.ok(loops && Number(loops[1]) >= 1 && Number(loops[1]) <= 64, `one ${table} row per claimed delivery at most:\n${plan}`);
      }
      assert.doesNotMatch(plan, /Seq Scan|Rows Removed/, plan);
    } finally {
      await fx.close();
    }
  });

  test('a batch of results is written by key however stale the statistics: no table is read whole', async () => {
    const target = (await postgresDatabase())!;
    // One connection, so the scans counted are the ones the worker's transaction made.
    const fixture = await openStore(target, { poolSize: 1 });
    const { store } = fixture;
    try {
      const { db } = store.database;
      const account = (await store.accounts.create('Stale')).account.id;
      for (let i = 0; i < 20; i++) await store.webhooks.create(account, { name: `w${i}`, url: `https://example.com/${i}`, events: ['contact.created'] });
      // Statistics from a fresh install, then a history that no statistics describe: 1,000 events × 20 webhooks.
      const tables = ['events', 'deliveries', 'delivery_queue', 'webhooks', 'attempts', 'webhook_stats'];
      for (const table of tables) await sql`alter table ${sql.table(table)} set (autovacuum_enabled = false)`.execute(db);
      await sql`analyze`.execute(db);
      await sql`insert into events (id, account_id, type, body, created_at) select 'evt_' || g, ${account}, 'contact.created', '{}', 0 from generate_series(1, 1000) g`.execute(db);
      await sql`insert into deliveries (id, account_id, event_id, event_seq, event_type, webhook_id, webhook_seq, status, attempt_count, final_attempt, due_at, created_at, updated_at)
        select 'dlv_' || e.seq || '_' || w.seq, e.account_id, e.id, e.seq, e.type, w.id, w.seq, 'pending', 0, 4, e.seq, 0, 0 from events e cross join webhooks w`.execute(db);
      await queueAll(db);
      const claimed = await store.claims.claim('plan', { limit: 200, leaseMs: 60_000 });
      assert.equal(claimed.length, 200);

      /** Sequential and index scans per table, as the server counts them once this connection has reported its own. */
      const schema = (await sql<{ name: string }>`select current_schema() as name`.execute(db)).rows[0]!.name;
      const scans = async () => {
        await sql`select pg_stat_force_next_flush()`.execute(db); // reported as the connection goes idle after it
        const rows = await adminQuery<{ relname: string; seq_scan: string; idx_scan: string; n_tup_upd: string; n_tup_hot_upd: string }>(
          `select relname, seq_scan, idx_scan, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where schemaname = '${schema}'`,
        );
        return new Map(rows.filter((r) => tables.includes(r.relname)).map((r) => [r.relname, { seq: Number(r.seq_scan), idx: Number(r.idx_scan), updated: Number(r.n_tup_upd), hot: Number(r.n_tup_hot_upd) }]));
      };
      const before = await scans();
      const outcomes: AttemptRecord['outcome'][] = [{ status: 'succeeded' }, { status: 'failed' }, { status: 'pending', dueAt: Date.now() + 60_000 }];
      await store.claims.record('plan', claimed.map((d, i) => record(d, outcomes[i % 3]!)), { disableAfterMs: 1e9 });
      const after = await scans();
      for (const table of ['deliveries', 'delivery_queue', 'webhooks']) {
        assert.equal(after.get(table)!.seq - before.get(table)!.seq, 0, `no sequential scan of ${table}`);
        assert.ok(after.get(table)!.idx > before.get(table)!.idx, `${table} was written through an index (the counters count)`);
      }
      assert.equal(after.get('webhook_stats')!.seq - before.get('webhook_stats')!.seq, 0, 'no sequential scan of webhook_stats');
      // Migration 011: a success or a retry changes no indexed column of the delivery's row, which
      // then takes a new version on its own page and no index entry (HOT), as long as the page has
      // room (half of each is kept free; the failures' new versions take some of it too). A final
      // failure enters the failed index. Before the queue, none was HOT.
      const updated = after.get('deliveries')!.updated - before.get('deliveries')!.updated;
      const hot = after.get('deliveries')!.hot - before.get('deliveries')!.hot;
      assert.equal(updated, 200);
      assert.ok(hot >= 120 && hot <= 133, `most of the 133 successes and retries were HOT updates, and no failure was: ${hot}`);
      const { rows } = await sql<{ status: string; n: string }>`select status, count(*) as n from deliveries where lease_owner is null and attempt_count = 1 group by status order by status`.execute(db);
      assert.deepEqual(rows.map((r) => [r.status, Number(r.n)]), [['failed', 67], ['pending', 66], ['succeeded', 67]], 'and every result was written');
      const [queue] = (await sql<{ retries: string; leased: string }>`select count(*) filter (where q.due_at = d.due_at) as retries, count(q.lease_owner) as leased
        from delivery_queue q join deliveries d on d.seq = q.seq where d.attempt_count = 1`.execute(db)).rows;
      assert.deepEqual([Number(queue!.retries), Number(queue!.leased)], [66, 0], 'the retries are queued again at their time, unleased; the finished ones left the queue');
    } finally {
      await fixture.close();
    }
  });

  test('commits that come while a notification is on its way share the next one, sent after them; a notifier whose connection was terminated reconnects', async () => {
    const target = (await postgresDatabase())!;
    const database = await target.open();
    const name = `notifier_${Date.now()}`;
    const notifier = deliveryNotifier(`${target.url}&application_name=${name}`);
    let notified = 0;
    const unlisten = await database.listenForDeliveries!(() => notified++);
    const settle = (count: number) => notificationsReach(() => notified, count);
    try {
      for (let i = 0; i < 10; i++) notifier.notify(); // ten commits at once
      await settle(2);
      assert.equal(notified, 2, 'the first commit is notified at once; the nine that came meanwhile share one more');
      const terminated = await adminQuery(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${name}'`);
      assert.equal(terminated.length, 1, "the notifier's connection");
      notifier.notify();
      await settle(3);
      assert.equal(notified, 3, 'a fresh connection notified');
    } finally {
      await notifier.close();
      await unlisten();
      await database.close();
      await target.drop();
    }
  });

  test('a notifier whose database is down gives up quietly, and the first commit after it is back notifies', async () => {
    const target = (await postgresDatabase())!;
    const database = await target.open();
    // The database as the notifier sees it: a TCP proxy on loopback that can be taken down and brought back on its port.
    const upstream = new URL(target.url);
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const server = net.connect(Number(upstream.port), upstream.hostname);
      for (const socket of [client, server]) {
        sockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(server).pipe(client);
    });
    const listen = (port: number) => new Promise<number>((resolve) => proxy.listen(port, '127.0.0.1', () => resolve((proxy.address() as net.AddressInfo).port)));
    /** No new connections, and the open ones cut (close() alone would wait for them). */
    const down = async () => {
      sockets.forEach((socket) => socket.destroy());
      if (proxy.listening) await new Promise((resolve) => proxy.close(resolve));
    };
    const port = await listen(0);
    const viaProxy = new URL(target.url);
    viaProxy.port = String(port);
    const notifier = deliveryNotifier(viaProxy.href);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    let notified = 0;
    const unlisten = await database.listenForDeliveries!(() => notified++);
    const settle = (count: number) => notificationsReach(() => notified, count);
    try {
      notifier.notify();
      await settle(1);
      assert.equal(notified, 1);
      await down(); // the database goes down
      notifier.notify();
      notifier.notify();
      await settle(2);
      assert.equal(notified, 1, 'nothing reached the database while it was down');
      assert.deepEqual(rejections, [], 'the failures were not thrown at the process');
      assert.equal(await listen(port), port); // back
      notifier.notify();
      await settle(2);
      assert.equal(notified, 2, 'the first commit after it came back notified, on a new connection');
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
      await notifier.close();
      await down();
      await unlisten();
      await database.close();
      await target.drop();
    }
  });

  test('a notifier closed while its connection is being made leaves no connection open', async () => {
    const target = (await postgresDatabase())!;
    const name = `notifier_closed_${Date.now()}`;
    try {
      const notifier = deliveryNotifier(`${target.url}&application_name=${name}`);
      notifier.notify(); // a commit: the notifier starts connecting
      await notifier.close(); // the store closes at once, before the connection is made
      await new Promise((resolve) => setTimeout(resolve, 500));
      const open = await adminQuery(`select pid from pg_stat_activity where application_name = '${name}'`);
      assert.deepEqual(open, [], 'nothing is left connected to keep the process alive');
      notifier.notify(); // and a closed notifier no longer connects
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await adminQuery(`select pid from pg_stat_activity where application_name = '${name}'`), []);
    } finally {
      await target.drop();
    }
  });

  test('a notifier whose database never answers gives up within its timeout, so closing it does not wait on TCP', async () => {
    // A host that takes the connection and never says a word: PostgreSQL's handshake never comes.
    const silent = net.createServer((socket) => socket.on('error', () => undefined).resume()); // reads (and drops) what comes, so it sees the other side go
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = new URL(POSTGRES_URL);
    url.port = String((silent.address() as net.AddressInfo).port);
    const connections = () => new Promise<number>((resolve, reject) => silent.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    try {
      const notifier = deliveryNotifier(url.href);
      notifier.notify();
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await connections(), 1, 'the notifier is waiting on the silent host');
      const started = Date.now();
      await notifier.close(); // resolves: the notification on its way gave up
      const waited = Date.now() - started;
      assert.ok(waited < 2 * NOTIFY_TIMEOUT_MS, `close() waited ${waited} ms for a host that never answers`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await connections(), 0, 'and the connection it tried was closed');
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a claim that fails rolls its transaction back: nothing is leased and the connection serves the next claim', async () => {
    const fx = await openStore((await postgresDatabase())!); // its own schema: close() drops it
    try {
      const account = (await fx.store.accounts.create('Broken')).account.id;
      await fx.store.webhooks.create(account, { name: 'w', url: 'https://example.com/w', events: ['contact.created'] });
      await fx.store.contacts.create(account, { username: 'broken', phone_number: '1' });
      const { db } = fx.store.database;
      await sql`alter table webhooks rename column url to moved`.execute(db);
      await assert.rejects(fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000 }), /url/);
      await sql`alter table webhooks rename column moved to url`.execute(db);
      for (let i = 0; i < 3; i++) assert.equal((await fx.store.claims.queueStats()).due, 1, 'still due, and the connection is not stuck in a failed transaction');
      const claimed = await fx.store.claims.claim('w', { limit: 10, leaseMs: 60_000 });
      assert.equal(claimed.length, 1);
    } finally {
      await fx.close();
    }
  });
});
