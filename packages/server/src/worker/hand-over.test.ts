// `protocol serve` hands a change's deliveries to its own worker as the change is written
// (store/hand-over.ts), on both databases: they are sent without a claim, within each webhook's
// slots (the rest wait, pending, for a claim), and not while older deliveries wait.
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, describe, test } from 'node:test';
import { postgresDatabase, sqliteDatabase } from '../test-support/databases.js';
import { startEngine, type Engine } from '../test-support/engine.js';
import { createLogger } from '../logging.js';
import { claimedPerWebhook, openStore, queued } from '../test-support/store.js';
import { createWorker } from './worker.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of cleanup.reverse()) await close();
});

/** The engine, with every claim's count of deliveries recorded. */
async function setup(database: 'sqlite' | 'postgres', respond?: Receiver['respond']) {
  const receiver = await startReceiver(respond);
  const engine = await startEngine({ PROTOCOL_DELIVERY_TIMEOUT: '30s' }, { target: database === 'sqlite' ? await sqliteDatabase() : await postgresDatabase() });
  cleanup.push(() => receiver.close(), () => engine.close());
  const claims = engine.server.store.claims;
  const claimed: number[] = [];
  const claim = claims.claim.bind(claims);
  claims.claim = async (...args) => {
    const found = await claim(...args);
    claimed.push(found.length);
    return found;
  };
  // The worker's first claim finds the database empty: from then on it is caught up.
  while (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  return { receiver, engine, claimed };
}
const register = async (engine: Engine, url: string) => (await engine.api('POST', '/webhooks', { name: 'test', url, events: ['contact.created'] })).body as { id: string };
const db = (engine: Engine) => engine.server.store.database.db;

for (const database of ['sqlite', 'postgres'] as const) {
  describe(`hand-over in serve on ${database}`, () => {
    test('changes made while the worker keeps up are sent without a claim, each once, and recorded', async () => {
      const { receiver, engine, claimed } = await setup(database);
      const webhook = await register(engine, `${receiver.url}/a`);
      // The first also waits for the sender thread to start (a second or so from source): until
      // it does, attempts pile up to the webhook's slots and the rest go the claims' way.
      await engine.api('POST', '/contacts', { username: 'first', phone_number: '0' });
      await receiver.waitFor(1, { timeoutMs: 15_000 });
      const claimsBefore = claimed.length;
      for (let i = 1; i <= 10; i++) {
        assert.equal((await engine.api('POST', '/contacts', { username: `u${i}`, phone_number: String(i) })).status, 201);
        await receiver.waitFor(1 + i, { timeoutMs: 15_000 });
      }
      assert.equal(
        claimed.slice(claimsBefore).reduce((a, n) => a + n, 0),
        0,
        'no claim returned any of them',
      );
      // (Claims still run, the poll's every second, and find nothing. No NOTIFY wakes anyone for
      // deliveries handed over.)
      // A burst: each delivered once, whichever way it went.
      await Promise.all(Array.from({ length: 30 }, (_, i) => engine.api('POST', '/contacts', { username: `b${i}`, phone_number: String(i) })));
      const received = await receiver.waitFor(41, { timeoutMs: 15_000 });
      assert.equal(new Set(received.map((r) => r.headers['x-protocol-delivery'])).size, 41, 'each delivery once');
      const { body } = await engine.api('GET', `/webhooks/${webhook.id}/deliveries?limit=100`);
      const deliveries = body.data as Array<{ id: string }>;
      assert.equal(deliveries.length, 41);
      for (const d of deliveries) await engine.waitForDelivery(d.id, (x) => x.status === 'succeeded' && x.attempts.length === 1);
    });

    test("a webhook's slots bound what is handed over: the rest waits, pending, for a claim", async () => {
      // The endpoint hangs, so every attempt holds its slot (a new webhook gets 16).
      const { receiver, engine, claimed } = await setup(database, () => ({ hang: true }));
      await register(engine, `${receiver.url}/hang`);
      for (let i = 0; i < 20; i++) await engine.api('POST', '/contacts', { username: `h${i}`, phone_number: String(i) });
      await receiver.waitFor(16, { timeoutMs: 15_000 });
      const { rows } = await sql<{ leased: number; n: number }>`select case when lease_owner is null then 0 else 1 end as leased, count(*) as n from ${queued(db(engine))} d group by 1 order by 1`.execute(db(engine));
      // 16 in flight: handed over, or claimed (a claim may have run between the changes). The
      // other 4 are pending for a claim: handed over, they would have queued past their slots.
      assert.deepEqual(
        rows.map((r) => [Number(r.leased), Number(r.n)]),
        [
          [0, 4],
          [1, 16],
        ],
      );
      assert.equal(receiver.received.length, 16);
      assert.ok(claimed.every((n) => n === 0), 'the webhook is at its cap: claims skip it too');
    });
  });
}

test('deliveries handed over after the worker stopped are given back, due at once, and nothing more is taken', async () => {
  const fx = await openStore(await sqliteDatabase());
  cleanup.push(() => fx.close());
  const worker = createWorker({ store: fx.store, logger: createLogger('silent'), retryScheduleMs: [1000], deliveryTimeoutMs: 5000, disableAfterMs: 86_400_000, allowPrivateUrls: true, senderThread: false });
  worker.start();
  await worker.stop(100);
  const account = (await fx.store.accounts.create('Late')).account.id;
  // Leased to the worker as a hand-over's would be, arriving after its stop.
  const [ofA] = await claimedPerWebhook(fx.store, account, ['a'], 2, worker.owner);
  assert.deepEqual(worker.handOver.reserve([ofA!.id]), [false], 'a stopped worker reserves nothing');
  worker.handOver.deliver(ofA!.claimed);
  const deadline = Date.now() + 5000;
  for (;;) {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${queued(fx.store.database.db)} d where lease_owner is null and status = 'pending' and due_at <= ${Date.now()}`.execute(fx.store.database.db);
    if (Number(rows[0]!.n) === 2) break;
    assert.ok(Date.now() < deadline, 'the deliveries were given back within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal((await fx.store.claims.claim('next', { limit: 10, leaseMs: 60_000 })).length, 2, 'the next worker claims them');
});
