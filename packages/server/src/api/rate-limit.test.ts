// PROTOCOL_RATE_LIMIT: requests per second per API key, 429 + Retry-After over it, and on
// PostgreSQL one limit shared by every API process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApi, type ApiFixture } from '../test-support/api.js';
import { postgresDatabase, sqliteDatabase, type TestDatabase } from '../test-support/databases.js';

const LIMIT = 5;
/** Starts a burst at the beginning of a wall-clock second, so it falls in one counting window. */
async function startOfSecond() {
  await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
}
const statuses = (answers: Array<{ status: number }>) => answers.map((a) => a.status);

describe('rate limit (SQLite, one process)', () => {
  let api: ApiFixture;
  before(async () => {
    api = await openApi(await sqliteDatabase(), { rateLimit: LIMIT });
  });
  after(() => api.close());

  test('a burst over the limit gets 429 with Retry-After and the error body; other keys are unaffected', async () => {
    await startOfSecond();
    const answers = await Promise.all(Array.from({ length: 4 * LIMIT }, () => api.request('GET', '/v1/contacts')));
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    assert.ok(ok.length >= LIMIT && ok.length < 4 * LIMIT, `${ok.length} of ${answers.length} passed`);
    assert.equal(ok.length + limited.length, answers.length, statuses(answers).join());
    const refused = limited[0]!;
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.equal(refused.headers.get('x-ratelimit-limit'), String(LIMIT));
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(refused.body.type, 'invalid_request');
    assert.match(refused.body.message, /Rate limit exceeded: at most 5 requests per second per API key/);
    assert.match(refused.body.documentation_url, /#rate_limited$/);

    const { key: otherKey } = await api.store.accounts.create('Other');
    assert.equal((await api.request('GET', '/v1/contacts', { key: otherKey })).status, 200);
  });

  test('a refused write changes nothing, and the key works again in the next second', async () => {
    await startOfSecond();
    const answers = await Promise.all(
      Array.from({ length: 3 * LIMIT }, (_, i) => api.request('POST', '/v1/contacts', { json: { username: `limited${i}`, phone_number: `1-800-555-${1000 + i}` } })),
    );
    const created = answers.filter((a) => a.status === 201).length;
    assert.ok(answers.some((a) => a.status === 429));
    const stored = (await api.store.contacts.list(api.account, { limit: 100 })).data.filter((c) => c.username.startsWith('limited'));
    assert.equal(stored.length, created);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the key's one-second window has passed
    assert.equal((await api.request('GET', '/v1/contacts')).status, 200);
  });
});

const postgres = await postgresDatabase();
describe('rate limit (PostgreSQL, shared by API processes)', { skip: !postgres && 'PostgreSQL unreachable' }, () => {
  let first: ApiFixture;
  let second: ApiFixture;
  before(async () => {
    const target = postgres as TestDatabase;
    first = await openApi(target, { rateLimit: LIMIT });
    second = await openApi(target, { rateLimit: LIMIT });
  });
  after(async () => {
    await second.close();
    await first.close();
  });

  test('the count lives in the database: hits from two stores add up', async () => {
    const unused = Math.floor(Date.now() / 1000) + 1000; // a window no request uses
    assert.equal(await first.store.rateLimits.hit('key-x', unused), 1);
    assert.equal(await second.store.rateLimits.hit('key-x', unused), 2);
    assert.equal(await first.store.rateLimits.hit('key-x', unused), 3);
    assert.equal(await first.store.rateLimits.hit('key-y', unused), 1);
  });

  test('one key spread over two API servers gets one limit, not one each', async () => {
    await startOfSecond();
    const answers = await Promise.all(Array.from({ length: 4 * LIMIT }, (_, i) => (i % 2 ? second : first).request('GET', '/v1/contacts', { key: first.key })));
    const ok = answers.filter((a) => a.status === 200).length;
    // Two separate limits would let 2 × LIMIT through in this second.
    assert.equal(ok, LIMIT, statuses(answers).join());
    assert.equal(answers.filter((a) => a.status === 429).length, 3 * LIMIT);
  });
});
