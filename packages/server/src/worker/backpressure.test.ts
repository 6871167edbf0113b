// The worker's memory bound: when the database cannot keep up with recording outcomes, results
// not yet written stop the claiming, and everything goes out once the writes come through.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createLogger } from '../logging.js';
import { sqliteDatabase } from '../test-support/databases.js';
import { startReceiver } from '../test-support/receiver.js';
import { openStore } from '../test-support/store.js';
import { createWorker } from './worker.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const close of cleanup.reverse()) await close();
});

test('with recording stalled, a worker sends at most its concurrency plus its unwritten bound; all is sent and recorded once writes resume', async () => {
  const receiver = await startReceiver();
  const fx = await openStore(await sqliteDatabase());
  cleanup.push(() => receiver.close(), () => fx.close());
  const account = (await fx.store.accounts.create('Slow disk')).account.id;
  const webhook = await fx.store.webhooks.create(account, { name: 'w', url: `${receiver.url}/hook`, events: ['contact.created'] });
  for (let i = 0; i < 30; i++) await fx.store.contacts.create(account, { username: `c${i}`, phone_number: '1' });

  let resume!: () => void;
  const stalled = new Promise<void>((resolve) => (resume = resolve));
  const store = { ...fx.store, claims: { ...fx.store.claims, record: async (...args: Parameters<typeof fx.store.claims.record>) => (await stalled, fx.store.claims.record(...args)) } };
  const concurrency = 2;
  const unwritten = 10;
  const worker = createWorker({ store, logger: createLogger('silent'), retryScheduleMs: [1000], deliveryTimeoutMs: 5000, disableAfterMs: 86_400_000, allowPrivateUrls: true, concurrency, unwritten, senderThread: false });
  worker.start();
  cleanup.push(() => worker.stop(1000));

  await receiver.waitFor(concurrency);
  await new Promise((resolve) => setTimeout(resolve, 500)); // ample time to send more, were it allowed
  const sent = receiver.received.length;
  assert.ok(sent <= concurrency + unwritten, `sent ${sent} with nothing recorded: at most the attempts in flight and the unwritten results`);
  assert.ok(sent >= unwritten, `sent ${sent}: claiming went on while results waited, up to the bound`);

  resume();
  await receiver.waitFor(30, { timeoutMs: 10_000 });
  for (;;) {
    const { data } = await fx.store.deliveries.list(account, webhook.id, { status: 'succeeded', limit: 100 });
    if (data.length === 30) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(new Set(receiver.received.map((r) => r.headers['x-protocol-delivery'])).size, 30, 'each delivery sent once');
});
