// PostgreSQL's round trips per store operation, counted on the wire: statements that do not wait
// on each other's results go out together (pg's pipeline mode), so a claim, a batch of results and
// a change each wait on the server fewer times than they have statements.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { postgresDatabase, type TestDatabase } from '../test-support/databases.js';
import { attemptRecord } from '../test-support/store.js';
import { sql } from 'kysely';
import { createStore, openDatabase, type Database, type Store } from './index.js';
import { pinnedTransaction } from './pinned.js';

/**
 * A loopback proxy in front of PostgreSQL that counts round trips: each time a client sends
 * after the server last spoke (or first), on each connection. Chunking does not matter: what
 * one side sends before the other answers counts once.
 */
async function countingProxy(upstream: URL) {
  let turns = 0;
  let statements = 0;
  let cutting = false;
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const server = net.connect(Number(upstream.port), upstream.hostname);
    let serverSpoke = true;
    // The client's messages: a type byte and a length, except the first (startup) one, which has no type.
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk) => {
      if (cutting && started) {
        // The connection drops with this burst unsent: the database never sees it.
        cutting = false;
        client.destroy();
        server.destroy();
        return;
      }
      if (serverSpoke) turns++;
      serverSpoke = false;
      server.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const header = started ? 5 : 4;
        if (pending.length < header) break;
        const length = pending.readUInt32BE(started ? 1 : 0) + (started ? 1 : 0);
        if (pending.length < length) break;
        // A statement run: Bind (extended protocol) or Query (simple: BEGIN, COMMIT, NOTIFY).
        if (started && (pending[0] === 0x42 || pending[0] === 0x51)) statements++;
        started = true;
        pending = pending.subarray(length);
      }
    });
    server.on('data', (chunk) => {
      serverSpoke = true;
      client.write(chunk);
    });
    for (const [socket, other] of [[client, server], [server, client]] as const) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => (sockets.delete(socket), other.destroy()));
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = new URL(upstream.href);
  url.port = String((proxy.address() as net.AddressInfo).port);
  return {
    url: url.href,
    /** Drops the connection that sends next, with what it sends. */
    cutNext: () => void (cutting = true),
    /** Round trips and statements run since the last call. */
    take: () => {
      const counts = { turns, statements };
      turns = statements = 0;
      return counts;
    },
    close: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

describe('round trips on PostgreSQL', async () => {
  const target = await postgresDatabase();
  let migrated: TestDatabase;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let store: Store;
  let database: Database;
  let account: string;
  let webhook: string;
  let conversation: string;
  /** A message in the conversation: one event, one delivery per webhook. */
  const send = () => store.messages.send(account, { conversation_id: conversation, message: 'hi' });
  before(async () => {
    if (!target) return;
    migrated = target;
    await (await target.open()).close();
    proxy = await countingProxy(new URL(target.url));
    database = openDatabase(proxy.url);
    // No NOTIFY after commits: it goes out on a connection of its own, at a time of its own.
    database.notifyDeliveries = () => {};
    store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 4, onCommit: () => {} });
    account = (await store.accounts.create('Pipelines')).account.id;
    for (const name of ['a', 'b']) webhook = (await store.webhooks.create(account, { name, url: `https://example.com/${name}`, events: ['message.created'] })).id;
    conversation = (await store.contacts.create(account, { username: 'pip', phone_number: '1' })).conversation_id!;
    await send(); // the first: its statements prepared on the connection
  });
  after(async () => {
    if (!target) return;
    await store.close();
    await proxy.close();
    await migrated.drop();
  });
  /** Round trips and statements of `work`. */
  const roundTrips = async <T>(work: () => Promise<T>): Promise<{ value: T; trips: number; statements: number }> => {
    proxy.take();
    const value = await work();
    const { turns, statements } = proxy.take();
    return { value, trips: turns, statements };
  };

  test('a message in three round trips, a claim in two, a batch of results in two', { skip: !target }, async () => {
    await store.claims.claim('w', { limit: 10, leaseMs: 60_000 }); // the first message's deliveries, out of the way
    // BEGIN, the message's INSERT, the conversation's touch, the event's INSERT and the lookup of
    // subscribed webhooks together; the deliveries' INSERT; COMMIT. One at a time: seven (six
    // when the conversation was touched this second).
    const change = await roundTrips(send);
    assert.equal(change.trips, 3);

    // BEGIN with its planner settings beside the claim; COMMIT. One at a time: three.
    const claim = await roundTrips(() => store.claims.claim('w', { limit: 10, leaseMs: 60_000 }));
    assert.equal(claim.value.length, 2, 'both webhooks owed a delivery');
    assert.equal(claim.trips, 2);

    // BEGIN beside the attempts, the deliveries, the webhooks and their counters; COMMIT. One at a time: six.
    const batch = claim.value.map((delivery) => attemptRecord(delivery, { status: 'succeeded' }));
    const record = await roundTrips(() => store.claims.record('w', batch, { disableAfterMs: 60_000 }));
    assert.deepEqual(record.value, { disabled: [] });
    assert.equal(record.trips, 2);
    assert.deepEqual(
      (await store.deliveries.list(account, webhook, { limit: 1 })).data.map((d) => d.status),
      ['succeeded'],
      'the pipelined batch was written',
    );
  });

  test("a message to a conversation this process touched this second leaves its last_active_at alone: one statement fewer", { skip: !target }, async () => {
    // Two sends within one second (the store's clock is in seconds) to a conversation no send has
    // touched yet; retried with a new one if a second boundary fell between them.
    for (let tries = 1; ; tries++) {
      const fresh = (await store.contacts.create(account, { username: `fresh-${tries}`, phone_number: `9${tries}` })).conversation_id!;
      const message = () => store.messages.send(account, { conversation_id: fresh, message: 'hi' });
      const first = await roundTrips(message);
      const second = await roundTrips(message);
      if (first.value.created_at !== second.value.created_at && tries < 5) continue;
      assert.equal(first.value.created_at, second.value.created_at);
      assert.equal(second.statements, first.statements - 1, 'the conversation was not touched again');
      assert.equal(second.trips, first.trips, 'the touch had gone out beside the message anyway');
      const conversation = await store.conversations.get(account, fresh);
      assert.equal(conversation.last_active_at, first.value.created_at, 'the first send of the second set it');
      break;
    }
  });

  test('a message to a conversation that does not exist: its event, sent beside it, is rolled back with it', { skip: !target }, async () => {
    const counts = async () => [(await store.events.list(account, { limit: 100 })).data.length, (await store.deliveries.list(account, webhook, { limit: 100 })).data.length];
    const before = await counts();
    await assert.rejects(store.messages.send(account, { conversation_id: 'nope', message: 'hi' }), /No such conversation/);
    assert.deepEqual(await counts(), before, 'no event, no delivery');
  });

  test('a transaction in which a statement failed is not reported as committed, even when its work caught the error', { skip: !target }, async () => {
    const failed = pinnedTransaction(database.db, async (tx) => {
      await sql`select 1 / 0`.execute(tx).catch(() => undefined);
      return 'done';
    });
    await assert.rejects(failed, /rolled back/);
    assert.equal(await pinnedTransaction(database.db, async () => 'done'), 'done', 'the connection serves the next one');
  });

  test('a connection lost mid-transaction fails its pipelined statements at once without crashing the process, and the next batch goes out on a new one', { skip: !target }, async () => {
    // A client lent out by the pool emits the loss itself: unheard, that was an uncaught exception.
    await send();
    const [delivery] = await store.claims.claim('w', { limit: 1, leaseMs: 60_000 });
    const batch = [attemptRecord(delivery!, { status: 'succeeded' })];
    proxy.cutNext();
    // Rejects, rather than waiting for answers that will never come.
    await assert.rejects(store.claims.record('w', batch, { disableAfterMs: 60_000 }), /terminated|closed|ECONNRESET|not queryable/i);
    const status = async () => (await store.deliveries.list(account, delivery!.webhookId, { limit: 10 })).data.find((d) => d.id === delivery!.id)!.status;
    assert.equal(await status(), 'pending', 'nothing of the lost batch was written');
    assert.deepEqual(await store.claims.record('w', batch, { disableAfterMs: 60_000 }), { disabled: [] });
    assert.equal(await status(), 'succeeded');
  });

  test('API writes that share a transaction lose its connection: every one fails, none is stored, and the next write goes out', { skip: !target }, async () => {
    const before = (await store.events.list(account, { limit: 100 })).data.length;
    proxy.cutNext();
    const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => store.messages.send(account, { conversation_id: conversation, message: `cut ${i}` })));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    assert.ok(failed.length > 0, 'the batch on the lost connection failed');
    for (const error of failed) assert.match(error.message, /terminated|closed|ECONNRESET|not queryable/i);
    const sent = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
    // The transaction itself failed (its BEGIN went with the lost burst): no write is run again on
    // another connection, and every one is told, as when a COMMIT fails.
    assert.deepEqual([failed.length, sent.length], [4, 0]);
    const stored = (await store.messages.list(account, { conversation_id: conversation, limit: 100 })).data.filter((m) => m.message.startsWith('cut ')).map((m) => m.id);
    assert.deepEqual(stored.sort(), sent.sort(), 'exactly the writes that were answered are stored');
    assert.equal((await store.events.list(account, { limit: 100 })).data.length, before + sent.length, 'and only their events');
    assert.equal((await send()).message, 'hi', 'the next write goes out');
  });

  test('a statement that fails among pipelined ones rolls back the whole transaction, with its own error', { skip: !target }, async () => {
    await send();
    const [delivery] = await store.claims.claim('w', { limit: 1, leaseMs: 60_000 });
    // A status code PostgreSQL cannot take as an integer fails the first of the four statements
    // sent together; the three behind it run in an aborted transaction and must leave nothing.
    const refused = { ...attemptRecord(delivery!, { status: 'succeeded' }), statusCode: 200.5 };
    await assert.rejects(store.claims.record('w', [refused], { disableAfterMs: 60_000 }), /invalid input syntax for type integer/);
    const rows = (await store.deliveries.list(account, delivery!.webhookId, { limit: 10 })).data;
    assert.equal(rows.find((d) => d.id === delivery!.id)!.status, 'pending', "the delivery's update, sent behind the failed insert, was rolled back");
    const again = await store.claims.record('w', [attemptRecord(delivery!, { status: 'succeeded' })], { disableAfterMs: 60_000 });
    assert.deepEqual(again, { disabled: [] }, 'the connection is usable after the failure');
    assert.equal((await store.deliveries.list(account, delivery!.webhookId, { limit: 10 })).data.find((d) => d.id === delivery!.id)!.status, 'succeeded');
  });
});
