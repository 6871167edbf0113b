// One test per error class of SPEC §3: each answers the error body, names the problem, and
// leaves the database exactly as it was.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../logging.js';
import { openApi, type ApiFixture, type ApiResponse } from '../test-support/api.js';
import { testDatabases } from '../test-support/databases.js';

let api: ApiFixture;
let conversationId: string;
before(async () => {
  api = await openApi();
  conversationId = (await api.request('POST', '/v1/contacts', { json: { username: 'seed', phone_number: '0' } })).body.conversation_id;
});
after(() => api.close());

/** Everything a bad request could have touched. */
async function snapshot() {
  const [contacts, messages, events] = await Promise.all(['/v1/contacts', '/v1/messages', '/v1/events'].map((path) => api.request('GET', `${path}?limit=100`)));
  return { contacts: contacts!.body, messages: messages!.body, events: events!.body };
}

function assertError(response: ApiResponse, status: number, pattern: RegExp, param?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.type, status >= 500 ? 'api_error' : 'invalid_request');
  assert.match(response.body.message, pattern);
  assert.match(response.body.documentation_url, /^https:\/\//);
  if (param) assert.equal(response.body.param, param);
}

describe('bad input changes nothing', () => {
  const cases: Array<[string, () => Promise<ApiResponse>, number, RegExp, string?]> = [
    ['malformed JSON', () => api.request('POST', '/v1/contacts', { json: '{"username": "x", ' }), 400, /Malformed JSON/],
    ['JSON that is not an object', () => api.request('POST', '/v1/contacts', { json: '[1,2]' }), 400, /must be a JSON object/],
    ['a wrong type', () => api.request('POST', '/v1/contacts', { json: { username: 12, phone_number: '1' } }), 400, /'username' must be string/, 'username'],
    ['a string where JSON wants a boolean', () => api.request('PUT', `/v1/conversations/${conversationId}`, { json: { is_muted: 'true' } }), 400, /'is_muted' must be boolean/, 'is_muted'],
    ['an unknown field', () => api.request('POST', '/v1/contacts', { json: { username: 'a', phone_number: '1', nickname: 'x' } }), 400, /Unknown field 'nickname'/, 'nickname'],
    ['an unknown form field', () => api.request('POST', '/v1/contacts', { form: 'username=a&phone_number=1&admin=true' }), 400, /Unknown field 'admin'/, 'admin'],
    ['a missing field', () => api.request('POST', '/v1/contacts', { json: { username: 'a' } }), 400, /Missing required field 'phone_number'/, 'phone_number'],
    ['a bad nested value', () => api.request('PUT', `/v1/conversations/${conversationId}`, { form: 'archived_at=yesterday' }), 400, /'archived_at' must be integer or null/, 'archived_at'],
    ['a bad URL', () => api.request('POST', '/v1/contacts', { json: { username: 'a', phone_number: '1', avatar_url: 'javascript:alert(1)' } }), 400, /avatar_url/, 'avatar_url'],
    ['an unknown id', () => api.request('PUT', '/v1/contacts/WAz8eIbvDR60rouK', { json: { display_name: 'x' } }), 404, /No such contact: 'WAz8eIbvDR60rouK'/],
    ['an unknown referenced id', () => api.request('POST', '/v1/messages', { json: { conversation_id: 'nope', message: 'hi' } }), 404, /No such conversation/, 'conversation_id'],
    ['a body over 1 MiB', () => api.request('POST', '/v1/contacts', { json: { username: 'a', phone_number: 'x'.repeat(1024 * 1024 + 10) } }), 413, /larger than 1 MiB/],
    ['an unsupported content type', () => api.request('POST', '/v1/contacts', { body: '<contact/>', contentType: 'application/xml' }), 415, /Unsupported Content-Type/],
    ['a prototype-polluting body', () => api.request('POST', '/v1/contacts', { json: '{"username":"a","phone_number":"1","__proto__":{"admin":true}}' }), 400, /./],
    ['an unknown route', () => api.request('GET', '/v1/nothing-here'), 404, /No route/],
  ];
  for (const [name, send, status, message, param] of cases) {
    test(name, async () => {
      const before = await snapshot();
      assertError(await send(), status, message, param);
      assert.deepEqual(await snapshot(), before);
    });
  }

  test('a conflict (409) names the field and stores nothing', async () => {
    const before = await snapshot();
    assertError(await api.request('POST', '/v1/contacts', { json: { username: 'seed', phone_number: '0' } }), 409, /already exists/, 'username');
    assert.deepEqual(await snapshot(), before);
  });
});

test('an internal error answers api_error without internals, and logs no secrets', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  const broken = await openApi(undefined, { logger: createLogger('info', sink) });
  try {
    await broken.store.close(); // the database goes away under the running app
    const response = await broken.request('GET', '/v1/contacts');
    assertError(response, 500, /went wrong on our side/);
    assert.doesNotMatch(JSON.stringify(response.body), /\sat \S+:\d+|kysely|sqlite|destroyed/i);
    const health = await broken.request('GET', '/healthz', { key: null });
    assert.equal(health.status, 200, 'the process keeps serving');
    const ready = await broken.request('GET', '/readyz', { key: null });
    assert.equal(ready.status, 503);
    const log = lines.join('');
    assert.match(log, /request failed/, 'the failure is logged');
    assert.ok(!log.includes(broken.key), 'the API key never appears in the logs');
  } finally {
    await broken.app.close();
    await broken.drop();
  }
});

// PostgreSQL's text cannot hold U+0000 and SQLite's can: a NUL reached PostgreSQL, which refused
// the statement, and the caller got a 500 saying to try again. An unpaired surrogate was stored
// changed, and differently by each. Now a 400 on both, before the store.
for (const target of await testDatabases()) {
  describe(`a NUL character, or an unpaired surrogate, is refused wherever it comes, on ${target.name}`, () => {
    let nul: ApiFixture;
    before(async () => {
      nul = await openApi(target);
    });
    after(() => nul.close());
    const everything = async () => {
      const lists = await Promise.all(['/v1/contacts', '/v1/webhooks', '/v1/attachments', '/v1/events'].map((list) => nul.request('GET', `${list}?limit=100`)));
      return { lists: lists.map((r) => r.body), files: fs.existsSync(path.join(nul.dataDir, 'attachments')) ? fs.readdirSync(path.join(nul.dataDir, 'attachments'), { recursive: true }) : [] };
    };
    const upload = (messageId: string) => {
      const form = new FormData();
      form.append('message_id', messageId);
      form.append('file', new Blob(['hello']), 'hello.txt');
      return nul.request('POST', '/v1/attachments', { body: form });
    };
    const cases: Array<[string, () => Promise<ApiResponse>, string, string]> = [
      ['a JSON field', () => nul.request('POST', '/v1/contacts', { json: { username: 'a\u0000b', phone_number: '1' } }), 'field', 'username'],
      ['an array item', () => nul.request('POST', '/v1/webhooks', { json: { name: 'n', url: 'https://example.com/h', events: ['contact.created', 'a\u0000'] } }), 'field', 'events.1'],
      ['a key', () => nul.request('POST', '/v1/contacts', { json: { 'user\u0000name': 'a', phone_number: '1' } }), 'field', 'user\u0000name'],
      ['a form field', () => nul.request('POST', '/v1/contacts', { form: 'username=a%00b&phone_number=1' }), 'field', 'username'],
      ['a query parameter', () => nul.request('GET', '/v1/contacts?starting_after=a%00b'), 'query parameter', 'starting_after'],
      ['a path parameter', () => nul.request('GET', '/v1/contacts/a%00b'), 'path parameter', 'id'],
      ['a multipart field', () => upload('a\u0000b'), 'field', 'message_id'],
    ];
    for (const [name, send, where, param] of cases) {
      test(name, async () => {
        const before = await everything();
        assertError(await send(), 400, new RegExp(`^The ${where} '.+' must not contain the NUL character \\(U\\+0000\\)$`), param);
        assert.deepEqual(await everything(), before);
      });
    }
    test("an upload's content type", async () => {
      const before = await everything();
      // Written by hand: FormData would drop a type with a NUL in it.
      const body = `--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/pl\u0000ain\r\n\r\nhello\r\n--xyz--\r\n`;
      assertError(await nul.request('POST', '/v1/attachments', { body, contentType: 'multipart/form-data; boundary=xyz' }), 400, /^The file's content type must not contain the NUL character \(U\+0000\)$/, 'file');
      assert.deepEqual(await everything(), before, 'nothing stored, no file left behind');
    });
    // Half an emoji (U+1F389 is \ud83c\udf89): a JSON escape can send it alone; it is no character,
    // and the drivers wrote it as one U+FFFD (PostgreSQL) or three (SQLite), unlike what was answered.
    const surrogates: Array<[string, () => Promise<ApiResponse>, string]> = [
      ['an unpaired surrogate in a JSON field', () => nul.request('POST', '/v1/contacts', { json: { username: 'party \ud83c', phone_number: '1' } }), 'username'],
      ['an unpaired low surrogate in an array item', () => nul.request('POST', '/v1/webhooks', { json: { name: 'n', url: 'https://example.com/h', events: ['contact.created', '\udf89'] } }), 'events.1'],
      ['an unpaired surrogate in a key', () => nul.request('POST', '/v1/contacts', { json: { ['user\ud83cname']: 'a', phone_number: '1' } }), 'user\ud83cname'],
    ];
    for (const [name, send, param] of surrogates) {
      test(name, async () => {
        const before = await everything();
        assertError(await send(), 400, /^The field '.+' must not contain an unpaired surrogate \(U\+D800 to U\+DFFF\)$/, param);
        assert.deepEqual(await everything(), before);
      });
    }
    test('the same requests without the NUL succeed, and a whole surrogate pair (an emoji) is stored and read back as sent', async () => {
      const party = await nul.request('POST', '/v1/contacts', { json: { username: 'party \ud83c\udf89', phone_number: '2' } });
      assert.equal(party.status, 201);
      assert.equal((await nul.request('GET', `/v1/contacts/${party.body.id}`)).body.username, 'party 🎉');
      const contact = await nul.request('POST', '/v1/contacts', { json: { username: 'ab', phone_number: '1' } });
      assert.equal(contact.status, 201);
      assert.equal((await nul.request('POST', '/v1/webhooks', { json: { name: 'n', url: 'https://example.com/h', events: ['contact.created'] } })).status, 201);
      assert.equal((await nul.request('GET', `/v1/contacts/${contact.body.id}`)).status, 200);
      const message = await nul.request('POST', '/v1/messages', { json: { conversation_id: contact.body.conversation_id, message: 'hi' } });
      assert.equal((await upload(message.body.id)).status, 201);
    });
  });
}
