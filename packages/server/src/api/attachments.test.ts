// Multipart uploads stream to PROTOCOL_DATA_DIR; the file is served at an unguessable URL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { UPLOAD_LIMIT } from './app.js';
import { openApi, type ApiFixture } from '../test-support/api.js';

let api: ApiFixture;
before(async () => {
  api = await openApi();
});
after(() => api.close());

const upload = (parts: Record<string, string | Blob>, filename = 'plan.txt') => {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, filename);
  }
  return api.request('POST', '/v1/attachments', { body: form });
};

const storedFiles = () => (fs.existsSync(path.join(api.dataDir, 'attachments')) ? fs.readdirSync(path.join(api.dataDir, 'attachments'), { recursive: true }).filter((f) => String(f).length > 2) : []);

test('upload, serve, rename, attach to a message, filter, delete', async () => {
  const contact = (await api.request('POST', '/v1/contacts', { json: { username: 'a', phone_number: '1' } })).body;
  const message = (await api.request('POST', '/v1/messages', { json: { conversation_id: contact.conversation_id, message: 'see file' } })).body;
  const bytes = 'Operation: Kevin\n'.repeat(1000);
  const created = await upload({ message_id: message.id, file: new Blob([bytes], { type: 'text/plain' }) }, '../../etc/plan.txt');
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.filename, 'plan.txt', 'no path survives in the name');
  assert.equal(created.body.file_type, 'text/plain');
  assert.equal(created.body.file_size, bytes.length);
  assert.equal(created.body.message_id, message.id);
  assert.match(created.body.file_url, new RegExp(`^${api.url}/files/${api.account}/[A-Za-z0-9]{32}$`));

  const served = await fetch(created.body.file_url);
  assert.equal(served.status, 200);
  assert.equal(await served.text(), bytes);
  assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
  assert.match(served.headers.get('content-security-policy')!, /sandbox/);
  const guessed = await fetch(created.body.file_url.replace(/.{4}$/, 'AAAA'));
  assert.equal(guessed.status, 404);

  const renamed = await api.request('PUT', `/v1/attachments/${created.body.id}`, { form: 'filename=heist.txt' });
  assert.equal(renamed.body.filename, 'heist.txt');
  assert.equal(renamed.body.file_url, created.body.file_url);
  assert.match((await fetch(created.body.file_url)).headers.get('content-disposition')!, /heist\.txt/);

  assert.deepEqual((await api.request('GET', `/v1/messages/${message.id}`)).body.attachments.map((a: { id: string }) => a.id), [created.body.id]);
  const byConversation = await api.request('GET', `/v1/attachments?conversation_id=${contact.conversation_id}`);
  assert.deepEqual(byConversation.body.data.map((a: { id: string }) => a.id), [created.body.id]);
  assert.deepEqual((await api.request('GET', `/v1/attachments/${created.body.id}`)).body, renamed.body);

  assert.equal((await api.request('DELETE', `/v1/attachments/${created.body.id}`)).status, 204);
  assert.equal((await fetch(created.body.file_url)).status, 404);
  assert.deepEqual(storedFiles(), [], 'the file is gone from disk');
});

test('bad uploads are refused and leave no file behind', async () => {
  const before = (await api.request('GET', '/v1/attachments?limit=100')).body.data.length;
  const noFile = await upload({ message_id: 'x' });
  assert.equal(noFile.status, 400);
  assert.equal(noFile.body.param, 'file');
  const unknownMessage = await upload({ file: new Blob(['x']), message_id: 'nope' });
  assert.equal(unknownMessage.status, 404);
  assert.equal(unknownMessage.body.param, 'message_id');
  const unknownField = await upload({ file: new Blob(['x']), owner: 'me' });
  assert.equal(unknownField.status, 400);
  const json = await api.request('POST', '/v1/attachments', { json: { filename: 'a' } });
  assert.equal(json.status, 415);
  const tooBig = await upload({ file: new Blob([new Uint8Array(UPLOAD_LIMIT + 1)]) });
  assert.equal(tooBig.status, 413);
  assert.equal((await api.request('GET', '/v1/attachments?limit=100')).body.data.length, before);
  assert.deepEqual(storedFiles(), []);
});
