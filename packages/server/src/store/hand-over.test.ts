// A change's deliveries handed to this process's worker as the change is written
// (hand-over.ts), on both databases: leased to it and ready to send, claimed by nobody, recorded
// like claimed ones; only those it takes; and every room it reserved either handed over or
// given back, when writes fail or (SQLite) run again.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, beforeEach, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { attemptRecord, countNotifies, groupsOneFailing, notificationsReach, openStore, queued, type StoreFixture } from '../test-support/store.js';
import type { ClaimedDelivery, Committed, HandOver } from './index.js';

for (const target of await testDatabases()) {
  describe(`hand-over on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    let hooks: Record<'a' | 'b', { id: string; secret: string; url: string }>;
    let take: (webhookIds: readonly string[]) => boolean[];
    let accepting = true;
    const calls = { reserved: [] as string[], cancelled: [] as string[], delivered: [] as ClaimedDelivery[][] };
    const commits: Committed[] = [];
    const handOver: HandOver = {
      owner: 'local',
      leaseMs: 60_000,
      accepting: () => accepting,
      reserve: (ids) => {
        const taken = take(ids);
        calls.reserved.push(...ids.filter((_, i) => taken[i]));
        return taken;
      },
      cancel: (ids) => void calls.cancelled.push(...ids),
      deliver: (deliveries) => void calls.delivered.push(deliveries),
    };
    const delivered = () => calls.delivered.flat();
    const row = async (id: string) =>
      (await sql<{ seq: number; status: string; lease_owner: string | null; due_at: number }>`select seq, status, lease_owner, due_at from ${queued(fx.store.database.db)} d where id = ${id}`.execute(fx.store.database.db)).rows[0]!;

    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Handing')).account.id;
      hooks = {} as typeof hooks;
      for (const name of ['a', 'b'] as const) {
        const webhook = await fx.store.webhooks.create(account, { name, url: `https://example.com/${name}`, events: ['contact.created', 'group.created'] });
        hooks[name] = { id: webhook.id, secret: webhook.secret, url: webhook.url };
      }
      fx.store.onCommit((committed) => commits.push(committed));
      fx.store.handOverTo(handOver);
    });
    beforeEach(() => {
      accepting = true;
      take = (ids) => ids.map(() => true);
      calls.reserved = [];
      calls.cancelled = [];
      calls.delivered = [];
      commits.length = 0;
    });
    after(() => fx.close());

    test("a change's deliveries are handed over after its commit, leased to the worker and ready to send; no claim returns them", async () => {
      const contact = await fx.store.contacts.create(account, { username: 'first', phone_number: '1' });
      assert.equal(calls.delivered.length, 1, 'one hand-over, after the commit');
      const deliveries = delivered();
      assert.deepEqual(deliveries.map((d) => d.webhookId).sort(), [hooks.a.id, hooks.b.id].sort());
      const [event] = (await fx.store.events.list(account, { limit: 1, type: 'contact.created' })).data;
      assert.equal((event!.payload as { id: string }).id, contact.id);
      const body = (await sql<{ body: string }>`select body from events where id = ${event!.id}`.execute(fx.store.database.db)).rows[0]!.body;
      for (const d of deliveries) {
        const hook = d.webhookId === hooks.a.id ? hooks.a : hooks.b;
        assert.deepEqual(
          { url: d.url, body: d.body, eventId: d.eventId, eventType: d.eventType, accountId: d.accountId, attempt: d.attempt, finalAttempt: d.finalAttempt, secrets: d.secrets, protocolSecret: d.protocolSecret, enabled: d.webhookEnabled },
          { url: hook.url, body, eventId: event!.id, eventType: 'contact.created', accountId: account, attempt: 1, finalAttempt: 4, secrets: [hook.secret], protocolSecret: hook.secret, enabled: true },
        );
        const stored = await row(d.id);
        assert.equal(stored.seq, d.seq, 'its key, for the result');
        assert.equal(stored.status, 'pending');
        assert.equal(stored.lease_owner, 'local');
        assert.ok(Number(stored.due_at) > Date.now() + 50_000, 'not due again until its lease runs out');
      }
      assert.deepEqual({ ...commits.at(-1)!, events: undefined }, { events: undefined, deliveries: 2, handedOver: 2 });
      assert.deepEqual(await fx.store.claims.claim('local', { limit: 10, leaseMs: 60_000 }), [], 'its own worker does not claim them again');
      assert.deepEqual(await fx.store.claims.claim('elsewhere', { limit: 10, leaseMs: 60_000 }), [], 'nor does another');
      // Recorded as claimed ones are: by key, under the worker's lease.
      await fx.store.claims.record('local', deliveries.map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      for (const d of deliveries) assert.equal((await row(d.id)).status, 'succeeded');
    });

    test('only what the worker takes is handed over; the rest is pending and claimed as before', async () => {
      take = (ids) => ids.map((id) => id === hooks.a.id);
      await fx.store.contacts.create(account, { username: 'second', phone_number: '2' });
      assert.deepEqual(delivered().map((d) => d.webhookId), [hooks.a.id]);
      assert.equal(commits.at(-1)!.handedOver, 1);
      assert.equal(commits.at(-1)!.deliveries, 2);
      const claimed = await fx.store.claims.claim('local', { limit: 10, leaseMs: 60_000 });
      assert.deepEqual(claimed.map((d) => d.webhookId), [hooks.b.id], "the other webhook's delivery, and not the one handed over");
      assert.notEqual(claimed[0]!.id, delivered()[0]!.id);
      await fx.store.claims.record('local', [...delivered(), ...claimed].map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
    });

    test('a commit whose deliveries were all handed over wakes no other process; one that left some for claims does', { skip: target.name === 'sqlite' && 'SQLite has one writer process' }, async () => {
      const notifies = countNotifies(fx.store);
      let notified = 0;
      const unlisten = await fx.store.database.listenForDeliveries!(() => notified++);
      try {
        await fx.store.contacts.create(account, { username: 'all-taken', phone_number: '5' });
        assert.equal(commits.at(-1)!.handedOver, 2);
        assert.equal(notifies.count(), 0, 'both leased to this process: nothing for anyone to claim');
        take = (ids) => ids.map((id) => id === hooks.a.id);
        const before = notified;
        await fx.store.contacts.create(account, { username: 'one-taken', phone_number: '6' });
        assert.equal(notifies.count(), 1, "the other webhook's delivery waits for a claim: workers are woken, once (and not for the first change)");
        await notificationsReach(() => notified, before + 1);
        assert.ok(notified > before, 'and the notification reached a listener on another connection');
        const claimed = await fx.store.claims.claim('elsewhere', { limit: 10, leaseMs: 60_000 });
        assert.deepEqual(claimed.map((d) => d.webhookId), [hooks.b.id]);
        await fx.store.claims.record('elsewhere', claimed.map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      } finally {
        notifies.restore();
        // Sent and recorded, so that a failure above leaves nothing leased for the next tests.
        await fx.store.claims.record('local', delivered().map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
        await unlisten();
      }
    });

    test('a write whose deliveries the database refuses gives their room back and hands nothing over', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'refused', phone_number: '9' });
      const refusing = await fx.store.webhooks.create(account, { name: 'refusing', url: 'https://example.com/r', events: ['contact.updated'] });
      const db = fx.store.database.db;
      if (target.name === 'sqlite') {
        await sql.raw(`create trigger refuse before insert on deliveries when new.webhook_id = '${refusing.id}' begin select raise(abort, 'refused'); end`).execute(db);
      } else {
        await sql.raw(`create function refuse() returns trigger language plpgsql as $$ begin if new.webhook_id = '${refusing.id}' then raise exception 'refused'; end if; return new; end $$`).execute(db);
        await sql.raw('create trigger refuse before insert on deliveries for each row execute function refuse()').execute(db);
      }
      // The contact's own deliveries were handed over: sent and recorded, out of the way.
      await fx.store.claims.record('local', delivered().map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
      calls.reserved = [];
      calls.delivered = [];
      try {
        await assert.rejects(fx.store.contacts.update(account, contact.id, { display_name: 'Renamed' }));
        assert.deepEqual(calls.reserved, [refusing.id], 'it got as far as its delivery');
        assert.deepEqual(calls.cancelled, [refusing.id]);
        assert.deepEqual(calls.delivered, []);
        assert.equal((await fx.store.contacts.get(account, contact.id)).display_name, null, 'nothing of the write was stored');
      } finally {
        await sql.raw('drop trigger refuse' + (target.name === 'sqlite' ? '' : ' on deliveries')).execute(db);
        await fx.store.webhooks.delete(account, refusing.id);
      }
    });

    test('writes side by side, one failing: every reserved room is handed over or given back, and what is handed over is what is stored', async () => {
      // The three share a transaction (group-commit.ts): the failure rolls it back and the other
      // two run again, reserving again; their first reservations must be given back.
      await groupsOneFailing(fx.store, account);
      assert.equal(delivered().length, 4, 'two webhooks × the two groups made');
      // SQLite runs them one after another: ok-1 reserved two before the failure, ok-2 had not run.
      // PostgreSQL runs them side by side: both had reserved two.
      assert.equal(calls.cancelled.length, target.name === 'sqlite' ? 2 : 4, 'the rolled-back run gave its room back');
      assert.deepEqual([...calls.cancelled, ...delivered().map((d) => d.webhookId)].sort(), [...calls.reserved].sort());
      const leased = await sql<{ id: string }>`select id from ${queued(fx.store.database.db)} d where status = 'pending' and lease_owner = 'local' order by id`.execute(fx.store.database.db);
      assert.deepEqual(
        leased.rows.map((r) => r.id),
        delivered()
          .map((d) => d.id)
          .sort(),
      );
      for (const d of delivered()) assert.equal((await row(d.id)).seq, d.seq);
    });

    test('a worker not accepting is not asked: its deliveries are pending for claims', async () => {
      accepting = false;
      await fx.store.contacts.create(account, { username: 'not-now', phone_number: '4' });
      assert.deepEqual(calls.reserved, [], 'no reservation asked for');
      assert.deepEqual(calls.delivered, []);
      assert.equal(commits.at(-1)!.handedOver, 0);
      const claimed = await fx.store.claims.claim('elsewhere', { limit: 10, leaseMs: 60_000 });
      assert.equal(claimed.length, 2);
      await fx.store.claims.record('elsewhere', claimed.map((d) => attemptRecord(d, { status: 'succeeded' })), { disableAfterMs: 1e9 });
    });

    test('with no worker to hand over to, deliveries are pending for claims', async () => {
      fx.store.handOverTo(undefined);
      try {
        await fx.store.contacts.create(account, { username: 'third', phone_number: '3' });
        assert.deepEqual(calls.delivered, []);
        assert.equal(commits.at(-1)!.handedOver, 0);
        assert.equal((await fx.store.claims.claim('elsewhere', { limit: 10, leaseMs: 60_000 })).length, 2);
      } finally {
        fx.store.handOverTo(handOver);
      }
    });
  });
}
