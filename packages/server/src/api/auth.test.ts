// Authentication, and tenant isolation through the HTTP API: another account's ids answer
// exactly like unknown ids.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApi, type ApiFixture } from '../test-support/api.js';

let api: ApiFixture;
let otherKey: string;
before(async () => {
  api = await openApi();
  otherKey = (await api.store.accounts.create('Other')).key;
});
after(() => api.close());

describe('authentication', () => {
  test('Bearer and Basic (key as username, empty password) both work', async () => {
    assert.equal((await api.request('GET', '/v1/contacts')).status, 200);
    const basic = `Basic ${Buffer.from(`${api.key}:`).toString('base64')}`;
    assert.equal((await api.request('GET', '/v1/contacts', { headers: { authorization: basic } })).status, 200);
  });

  for (const [name, authorization] of [
    ['no header', null],
    ['a wrong key', 'Bearer sk_wrongwrongwrongwrongwrongwrongwr'],
    ['a wrong Basic key', `Basic ${Buffer.from('sk_nope:').toString('base64')}`],
    ['an unknown scheme', 'Token abc'],
    ['an empty Bearer', 'Bearer '],
  ] as const) {
    test(`401 with ${name}, before anything is stored`, async () => {
      const response = await api.request('POST', '/v1/contacts', {
        key: null,
        json: { username: `unauth-${name}`, phone_number: '1' },
        ...(authorization ? { headers: { authorization } } : {}),
      });
      assert.equal(response.status, 401);
      assert.equal(response.body.type, 'invalid_request');
      assert.match(response.body.message, /API key/);
      assert.equal((await api.request('GET', '/v1/contacts?limit=100')).body.data.length, 0);
    });
  }

  test('health probes need no key', async () => {
    assert.deepEqual((await api.request('GET', '/healthz', { key: null })).body, { status: 'ok' });
    assert.deepEqual((await api.request('GET', '/readyz', { key: null })).body, { status: 'ready' });
  });
});

describe("another account's ids are 404, exactly like unknown ids", () => {
  test('read, update, delete and references', async () => {
    const as = (key: string) => ({ key });
    const contact = (await api.request('POST', '/v1/contacts', { ...as(otherKey), json: { username: 'theirs', phone_number: '1' } })).body;
    const message = (await api.request('POST', '/v1/messages', { ...as(otherKey), json: { conversation_id: contact.conversation_id, message: 'private' } })).body;
    const group = (await api.request('POST', '/v1/groups', { ...as(otherKey), json: { name: 'theirs' } })).body;
    const event = (await api.request('GET', '/v1/events?limit=1', as(otherKey))).body.data[0];
    const eventsBefore = (await api.request('GET', '/v1/events?limit=100')).body;

    const attempts: Array<[string, string, object?]> = [
      ['GET', `/v1/contacts/${contact.id}`],
      ['PUT', `/v1/contacts/${contact.id}`, { display_name: 'mine now' }],
      ['DELETE', `/v1/contacts/${contact.id}`],
      ['GET', `/v1/conversations/${contact.conversation_id}`],
      ['PATCH', `/v1/conversations/${contact.conversation_id}`, { is_muted: true }],
      ['DELETE', `/v1/conversations/${contact.conversation_id}`],
      ['GET', `/v1/messages/${message.id}`],
      ['PUT', `/v1/messages/${message.id}`, { message: 'x' }],
      ['DELETE', `/v1/messages/${message.id}`],
      ['GET', `/v1/groups/${group.id}`],
      ['PUT', `/v1/groups/${group.id}`, { name: 'x' }],
      ['DELETE', `/v1/groups/${group.id}`],
      ['GET', `/v1/events/${event.id}`],
    ];
    for (const [method, path, json] of attempts) {
      const theirs = await api.request(method, path, json ? { json } : {});
      const unknown = await api.request(method, path.replace(/[A-Za-z0-9]{16}$/, 'AAAAAAAAAAAAAAAA'), json ? { json } : {});
      assert.equal(theirs.status, 404, `${method} ${path}`);
      assert.equal(theirs.body.message.replace(/'[^']+'$/, ''), unknown.body.message.replace(/'[^']+'$/, ''), 'the same answer as an unknown id');
    }
    const reference = await api.request('POST', '/v1/messages', { json: { conversation_id: contact.conversation_id, message: 'x' } });
    assert.equal(reference.status, 404);
    assert.equal(reference.body.param, 'conversation_id');
    const members = await api.request('POST', '/v1/groups', { json: { name: 'x', contacts: [contact.id] } });
    assert.equal(members.status, 404);

    assert.equal((await api.request('GET', `/v1/contacts/${contact.id}`, as(otherKey))).body.display_name, null, 'their contact is untouched');
    assert.equal((await api.request('GET', `/v1/messages/${message.id}`, as(otherKey))).status, 200, 'their message still exists');
    assert.deepEqual((await api.request('GET', '/v1/events?limit=100')).body, eventsBefore, 'no event was emitted');
    assert.equal((await api.request('GET', '/v1/contacts?limit=100')).body.data.some((c: { id: string }) => c.id === contact.id), false);
  });
});
