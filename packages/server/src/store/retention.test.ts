// Retention in the store, on both databases: a delivery old enough goes whatever its state, and a
// pending one leaves the queue with it (PostgreSQL's queue is a table of its own, migration 011).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { queueLength } from '../test-support/store.js';
import { createStore } from './index.js';

const DAY = 86_400;

for (const target of await testDatabases()) {
  test(`an old delivery still pending is purged with its place in the queue, and nothing of it is claimed (${target.name})`, async () => {
    const database = await target.open();
    let clock = Math.floor(Date.now() / 1000) - 40 * DAY;
    const store = createStore(database, { fileUrl: () => '', attemptsPerDelivery: 4, now: () => clock });
    try {
      const account = (await store.accounts.create('Old')).account.id;
      await store.webhooks.create(account, { name: 'w', url: 'https://example.com/w', events: ['contact.created'] });
      await store.contacts.create(account, { username: 'old', phone_number: '1' });
      clock += 40 * DAY;
      await store.contacts.create(account, { username: 'new', phone_number: '2' });
      assert.equal(await queueLength(database.db), 2, 'both wait to be sent');

      assert.equal((await store.retention.purge(30 * DAY)).byTable.deliveries, 1);
      assert.equal(await queueLength(database.db), 1, 'the old one left the queue with its row');
      const claimed = await store.claims.claim('w', { limit: 10, leaseMs: 60_000 });
      assert.deepEqual(claimed.map((d) => JSON.parse(d.body).payload.username), ['new']);
      assert.deepEqual(await store.claims.claim('w', { limit: 10, leaseMs: 60_000 }), [], 'nothing left behind to lease');
    } finally {
      await store.close();
      await target.drop();
    }
  });
}
