// When the worker's loop wakes. Attempts that end (and written batches) wake it while claims find
// deliveries or may have left some behind for want of room; a written batch also when it
// scheduled a retry.
// With the poll interval set far out, a wake-up that does not happen shows as a delivery that
// never comes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createLogger } from '../logging.js';
import { sqliteDatabase } from '../test-support/databases.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';
import { openStore } from '../test-support/store.js';
import { createWorker } from './worker.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of cleanup.reverse()) await close();
});

/** A worker over a store whose claims are counted, `changes` deliveries to `receiver` due. */
async function setUp(receiver: Receiver, changes: number, options: { concurrency: number; retryScheduleMs?: number[]; lateNextDueMs?: number }) {
  const fx = await openStore(await sqliteDatabase());
  cleanup.push(() => fx.close());
  const account = (await fx.store.accounts.create('Wake-ups')).account.id;
  const webhook = await fx.store.webhooks.create(account, { name: 'w', url: `${receiver.url}/hook`, events: ['contact.created'] });
  for (let i = 0; i < changes; i++) await fx.store.contacts.create(account, { username: `c${i}`, phone_number: '1' });
  const counts = { claims: 0, claimed: 0 };
  const claim: typeof fx.store.claims.claim = async (...args) => {
    const claimed = await fx.store.claims.claim(...args);
    counts.claims++;
    counts.claimed += claimed.length;
    return claimed;
  };
  // On a busy machine the answer to "when is the next one due?" can come late: `lateNextDueMs`
  // delays it when it is a retry's (due within a second; a lease's end is further out).
  const nextDueAt: typeof fx.store.claims.nextDueAt = async () => {
    const next = await fx.store.claims.nextDueAt();
    if (options.lateNextDueMs && next !== undefined && next < Date.now() + 1000) await new Promise((resolve) => setTimeout(resolve, options.lateNextDueMs));
    return next;
  };
  const store = { ...fx.store, claims: { ...fx.store.claims, claim, nextDueAt } };
  const worker = createWorker({
    store,
    logger: createLogger('silent'),
    retryScheduleMs: options.retryScheduleMs ?? [60_000],
    deliveryTimeoutMs: 5000,
    disableAfterMs: 86_400_000,
    allowPrivateUrls: true,
    concurrency: options.concurrency,
    pollMs: 600_000,
    senderThread: false,
  });
  worker.start();
  cleanup.push(() => worker.stop(1000));
  /** Until `n` deliveries have succeeded (recorded, not only received). */
  const settled = async (n: number) => {
    for (;;) {
      const { data } = await fx.store.deliveries.list(account, webhook.id, { status: 'succeeded', limit: 100 });
      if (data.length === n) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { counts, settled };
}

test('once a claim finds nothing, ending attempts wake no more claims', async () => {
  const receiver = await startReceiver();
  cleanup.push(() => receiver.close());
  const { counts, settled } = await setUp(receiver, 10, { concurrency: 64 });
  await receiver.waitFor(10);
  await settled(10);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(counts, { claims: 2, claimed: 10 }, 'one claim took all ten; the next, woken as they ended, found nothing; then nothing claimed again');
});

test('deliveries left behind for want of room are claimed as attempts end and free it', async () => {
  const receiver = await startReceiver();
  cleanup.push(() => receiver.close());
  const { counts } = await setUp(receiver, 10, { concurrency: 2 });
  await receiver.waitFor(10, { timeoutMs: 10_000 });
  assert.equal(counts.claimed, 10);
  assert.ok(counts.claims >= 5, `${counts.claims} claims of at most 2`);
});

test('a written batch that scheduled a retry wakes the loop for it, long before the poll interval', async () => {
  const receiver = await startReceiver((_, index) => ({ status: index === 0 ? 503 : 200 }));
  cleanup.push(() => receiver.close());
  const { settled } = await setUp(receiver, 1, { concurrency: 64, retryScheduleMs: [50] });
  const [first, second] = await receiver.waitFor(2, { timeoutMs: 10_000 });
  assert.equal(first!.headers['x-protocol-delivery'], second!.headers['x-protocol-delivery'], 'the same delivery, retried');
  await settled(1);
});

test('a retry that falls due while the loop asks when the next one is due is claimed at once, not at the next poll', async () => {
  // Once the failed attempt's result is written (its retry due in 200 ms), the loop claims
  // (nothing due yet) and asks when the next falls due; the answer comes 400 ms later, when the
  // retry is due already. It must claim again then: it slept until the poll (10 minutes here),
  // a poll late. (A busy machine made this happen by itself, now and then.)
  const receiver = await startReceiver((_, index) => ({ status: index === 0 ? 503 : 200 }));
  cleanup.push(() => receiver.close());
  const { settled } = await setUp(receiver, 1, { concurrency: 64, retryScheduleMs: [200], lateNextDueMs: 400 });
  const [first, second] = await receiver.waitFor(2, { timeoutMs: 5_000 });
  assert.equal(first!.headers['x-protocol-delivery'], second!.headers['x-protocol-delivery'], 'the same delivery, retried');
  await settled(1);
});
