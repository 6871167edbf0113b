// Idempotency-Key on POSTs, as at Stripe, on both databases: replays, 409 on a different body,
// per-account keys, racing duplicates, and keys that expire or were abandoned.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApi, type ApiFixture } from '../test-support/api.js';
import { testDatabases } from '../test-support/databases.js';
import { ABANDONED_AFTER_MS, IDEMPOTENCY_TTL_MS } from '../store/idempotency.js';

for (const target of await testDatabases()) {
  describe(`Idempotency-Key (${target.name})`, () => {
    let api: ApiFixture;
    before(async () => {
      api = await openApi(target);
    });
    after(() => api.close());

    const post = (path: string, json: unknown, key: string, auth?: string) => api.request('POST', path, { json, headers: { 'idempotency-key': key }, ...(auth && { key: auth }) });
    const contactsNamed = async (username: string, auth?: string) =>
      (await api.request('GET', '/v1/contacts?limit=100', auth ? { key: auth } : {})).body.data.filter((c: { username: string }) => c.username === username);
    const createdEvents = async (contactIds: string[]) =>
      (await api.request('GET', '/v1/events?type=contact.created&limit=100')).body.data.filter((e: { payload: { id: string } }) => contactIds.includes(e.payload.id));

    test('a retry with the same key and body replays the first answer and changes nothing', async () => {
      const body = { username: 'KevinMcCallister', phone_number: '1-800-111-0001' };
      const first = await post('/v1/contacts', body, 'key-replay');
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      // Same fields in another order, and as a form: still the same request.
      const again = await post('/v1/contacts', { phone_number: body.phone_number, username: body.username }, 'key-replay');
      const asForm = await api.request('POST', '/v1/contacts', { form: 'username=KevinMcCallister&phone_number=1-800-111-0001', headers: { 'idempotency-key': 'key-replay' } });
      for (const replay of [again, asForm]) {
        assert.equal(replay.status, 201);
        assert.equal(replay.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(replay.body, first.body);
      }
      assert.equal((await contactsNamed('KevinMcCallister')).length, 1);
      assert.equal((await createdEvents([first.body.id])).length, 1);
    });

    test('the same key with a different body is a 409 and changes nothing', async () => {
      const first = await post('/v1/contacts', { username: 'Buzz', phone_number: '1-800-111-0002' }, 'key-mismatch');
      assert.equal(first.status, 201);
      const other = await post('/v1/contacts', { username: 'Fuller', phone_number: '1-800-111-0003' }, 'key-mismatch');
      assert.equal(other.status, 409);
      assert.equal(other.body.type, 'invalid_request');
      assert.equal(other.body.param, 'idempotency-key');
      assert.match(other.body.message, /different request/);
      assert.equal((await contactsNamed('Fuller')).length, 0);
      // Another path with the same key is a different request too.
      assert.equal((await post('/v1/groups', { name: 'Family' }, 'key-mismatch')).status, 409);
    });

    test('keys are per account', async () => {
      const { key: otherKey } = await api.store.accounts.create('Other');
      const body = { username: 'Marv', phone_number: '1-800-111-0004' };
      const mine = await post('/v1/contacts', body, 'shared-key');
      const theirs = await post('/v1/contacts', body, 'shared-key', otherKey);
      assert.equal(mine.status, 201);
      assert.equal(theirs.status, 201);
      assert.equal(theirs.headers.get('idempotent-replayed'), null);
      assert.notEqual(theirs.body.id, mine.body.id);
      assert.equal((await contactsNamed('Marv', otherKey)).length, 1);
    });

    test('racing duplicates make one change, and every one gets its answer', async () => {
      const body = { username: 'Harry', phone_number: '1-800-111-0005' };
      const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/contacts', body, 'key-race')));
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(8).fill(201),
      );
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
      assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 7);
      assert.equal((await contactsNamed('Harry')).length, 1);
      assert.equal((await createdEvents([answers[0]!.body.id])).length, 1);
    });

    test('a request that fails validation keeps no key; a bad header is a 400', async () => {
      const invalid = await post('/v1/contacts', { username: 'Peter' }, 'key-invalid');
      assert.equal(invalid.status, 400);
      const valid = await post('/v1/contacts', { username: 'Peter', phone_number: '1-800-111-0006' }, 'key-invalid');
      assert.equal(valid.status, 201);
      const tooLong = await post('/v1/contacts', { username: 'Kate', phone_number: '1-800-111-0007' }, 'k'.repeat(256));
      assert.equal(tooLong.status, 400);
      assert.equal(tooLong.body.param, 'idempotency-key');
      assert.equal((await contactsNamed('Kate')).length, 0);
    });

    test('a 4xx answer from the handler is replayed too (a 404 stays a 404)', async () => {
      const missing = await post('/v1/messages', { conversation_id: 'nope0000nope0000', message: 'hi' }, 'key-404');
      assert.equal(missing.status, 404);
      const again = await post('/v1/messages', { conversation_id: 'nope0000nope0000', message: 'hi' }, 'key-404');
      assert.equal(again.status, 404);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, missing.body);
    });

    test('a key is forgotten after 24 hours, and an abandoned one after the request timeout', async () => {
      const now = Date.now();
      const fingerprint = 'f'.repeat(64);
      assert.deepEqual(await api.store.idempotency.claim(api.account, 'old', fingerprint, now), { kind: 'new' });
      await api.store.idempotency.complete(api.account, 'old', 201, '{}');
      assert.equal((await api.store.idempotency.claim(api.account, 'old', fingerprint, now + 1000)).kind, 'replay');
      assert.deepEqual(await api.store.idempotency.claim(api.account, 'old', 'other', now + IDEMPOTENCY_TTL_MS + 1000), { kind: 'new' });

      assert.deepEqual(await api.store.idempotency.claim(api.account, 'stuck', fingerprint, now), { kind: 'new' });
      assert.deepEqual(await api.store.idempotency.claim(api.account, 'stuck', fingerprint, now + 1000), { kind: 'in_progress' });
      assert.deepEqual(await api.store.idempotency.claim(api.account, 'stuck', fingerprint, now + ABANDONED_AFTER_MS + 1000), { kind: 'new' });
    });
  });
}

describe('Idempotency-Key when the first attempt fails on our side', () => {
  test('a 5xx keeps no key: the retry runs for real and its answer is the one replayed', async () => {
    const Fastify = (await import('fastify')).default;
    const { installIdempotency } = await import('./idempotency.js');
    const { installErrorHandler } = await import('./error-handler.js');
    const { createStore } = await import('../store/index.js');
    const { sqliteDatabase } = await import('../test-support/databases.js');
    const target = await sqliteDatabase();
    const store = createStore(await target.open(), { fileUrl: () => '', attemptsPerDelivery: 1 });
    const app = Fastify();
    installErrorHandler(app);
    let calls = 0;
    await app.register(async (v1) => {
      v1.addHook('preHandler', async (request) => {
        request.account = 'acct';
        request.keyId = 'key';
      });
      installIdempotency(v1, store);
      v1.post('/flaky', async (_request, reply) => {
        calls++;
        if (calls === 1) throw new Error('the database went away');
        return reply.status(201).send({ call: calls });
      });
    });
    try {
      const post = () => app.inject({ method: 'POST', url: '/flaky', headers: { 'idempotency-key': 'k1', 'content-type': 'application/json' }, payload: '{}' });
      const failed = await post();
      assert.equal(failed.statusCode, 500);
      const retried = await post();
      assert.equal(retried.statusCode, 201);
      assert.deepEqual(retried.json(), { call: 2 });
      assert.equal(retried.headers['idempotent-replayed'], undefined);
      const replayed = await post();
      assert.deepEqual([replayed.statusCode, replayed.json(), replayed.headers['idempotent-replayed']], [201, { call: 2 }, 'true']);
      assert.equal(calls, 2);
    } finally {
      await app.close();
      await store.close();
      await target.drop();
    }
  });
});
