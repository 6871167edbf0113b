// Retention: 100,000 rows of old history are purged in small batches while deliveries keep
// flowing, on both databases; recent history and the settings endpoint stay as they were.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger } from '../logging.js';
import { newId } from '../store/ids.js';
import { testDatabases } from '../test-support/databases.js';
import { startEngine } from '../test-support/engine.js';
import { startReceiver } from '../test-support/receiver.js';
import { createPurger } from './retention.js';

const OLD_ROWS = 100_000;
const BATCH = 500;
const DAY = 86_400;

for (const target of await testDatabases()) {
  describe(`retention (${target.name})`, () => {
    test('purges 100k old rows in small batches while deliveries keep flowing', async () => {
      const receiver = await startReceiver();
      const engine = await startEngine({ PROTOCOL_RETENTION: '30d' }, { target });
      try {
        const { db } = engine.server.store.database;
        const account = (await engine.api('GET', '/session')).body.account.id;
        const { body: webhook } = await engine.api('POST', '/webhooks', { name: 'Live', url: `${receiver.url}/live`, events: ['contact.created'] });

        // Old history, written straight to the tables: a third each of events, deliveries and attempts.
        const old = Math.floor(Date.now() / 1000) - 40 * DAY;
        const per = Math.ceil(OLD_ROWS / 3);
        for (let i = 0; i < per; i += BATCH) {
          const n = Math.min(BATCH, per - i);
          const ids = Array.from({ length: n }, () => newId());
          await db.insertInto('events').values(ids.map((id) => ({ id, account_id: account, type: 'contact.created', body: '{}', created_at: old }))).execute();
          await db
            .insertInto('deliveries')
            .values(ids.map((id) => ({ id: newId(), account_id: account, event_id: id, event_seq: 0, event_type: 'contact.created', webhook_id: webhook.id, webhook_seq: 0, status: 'succeeded' as const, attempt_count: 1, final_attempt: 8, due_at: null, lease_owner: null, lease_expires_at: null, last_attempt_at: old, created_at: old, updated_at: old })))
            .execute();
          await db
            .insertInto('attempts')
            .values(ids.map((id) => ({ id: newId(), account_id: account, delivery_id: id, webhook_id: webhook.id, attempt: 1, started_at: old, duration_ms: 3, status_code: 200, request_headers: '{}', response_headers: '{}', response_body: '', error: null, error_stage: null })))
            .execute();
        }
        const oldCount = async () => {
          const counts = await Promise.all([
            db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('created_at', '<', old + DAY).executeTakeFirstOrThrow(),
            db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('created_at', '<', old + DAY).executeTakeFirstOrThrow(),
            db.selectFrom('attempts').select((eb) => eb.fn.countAll<number>().as('n')).where('started_at', '<', old + DAY).executeTakeFirstOrThrow(),
          ]);
          return counts.reduce((sum, c) => sum + Number(c.n), 0);
        };
        assert.equal(await oldCount(), per * 3);

        // Changes keep coming while the purge runs; every one must be delivered.
        let producing = true;
        const made: string[] = [];
        const producer = (async () => {
          for (let i = 0; producing; i++) {
            const { status, body } = await engine.api('POST', '/contacts', { username: `live${i}`, phone_number: `1-800-000-${String(i).padStart(4, '0')}` });
            assert.equal(status, 201);
            made.push(body.id);
          }
        })();

        const batches: number[] = [];
        const purger = createPurger({ store: engine.server.store, logger: createLogger('silent'), retentionMs: 30 * DAY * 1000, batchSize: BATCH, pauseMs: 1, onPurged: (t) => batches.push(t.events! + t.deliveries! + t.attempts!) });
        const deleted = await purger.purgeAll();
        producing = false;
        await producer;

        assert.equal(await oldCount(), 0);
        assert.equal(deleted, per * 3);
        assert.ok(batches.length >= per / BATCH, `${batches.length} batches`);
        assert.ok(batches.every((n) => n <= 3 * BATCH));
        assert.ok(made.length > 0);
        const arrived = await receiver.waitFor(made.length, { timeoutMs: 30_000 });
        const delivered = new Set(arrived.map((r) => JSON.parse(r.body).payload.id));
        assert.deepEqual(made.filter((id) => !delivered.has(id)), []);
        // Recent history is untouched, and the API says how long history is kept.
        const events = (await engine.api('GET', '/events?limit=100&type=contact.created')).body.data;
        assert.ok(events.length >= Math.min(100, made.length));
        assert.equal((await engine.api('GET', '/settings')).body.retention_seconds, 30 * DAY);
      } finally {
        await engine.close();
        await receiver.close();
      }
    });
  });
}
