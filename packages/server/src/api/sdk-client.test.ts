// @protocol/sdk's ApiClient against the real server: every resource, pagination, uploads,
// webhooks and errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient, ProtocolError, verifyWebhook } from '@protocol/sdk';
import { startEngine, type Engine } from '../test-support/engine.js';
import { startReceiver, type Receiver } from '../test-support/receiver.js';

let engine: Engine;
let receiver: Receiver;
let client: ApiClient;
before(async () => {
  receiver = await startReceiver();
  engine = await startEngine();
  client = new ApiClient(engine.key, { baseUrl: `${engine.url}/v1` });
});
after(async () => {
  await engine.close();
  await receiver.close();
});

test('contacts, conversations, messages and groups, typed end to end', async () => {
  const kevin = await client.contacts.create({ username: 'KevinMcCallister', phone_number: '1-800-759-3000' });
  assert.equal((await client.contacts.get(kevin.id)).username, 'KevinMcCallister');
  assert.equal((await client.contacts.update(kevin.id, { display_name: 'Kevin' })).display_name, 'Kevin');
  const conversation = await client.conversations.update(kevin.conversation_id!, { is_muted: true });
  assert.equal(conversation.is_muted, true);
  assert.deepEqual((await client.conversations.list({ muted: true })).data.map((c) => c.id), [conversation.id]);
  const message = await client.messages.send({ conversation_id: conversation.id, contact_id: kevin.id, message: 'Merry Christmas, ya filthy animal' });
  assert.equal(message.contact?.username, 'KevinMcCallister');
  const reacted = await client.messages.update(message.id, { reactions: { red_angry_face: ['Kate'] } });
  assert.deepEqual(reacted.reactions, [{ red_angry_face: ['Kate'] }]);
  assert.equal((await client.messages.list({ conversation_id: conversation.id })).data.length, 1);
  const group = await client.groups.create({ name: 'McCallisters', contacts: [kevin.id] });
  assert.deepEqual((await client.groups.get(group.id)).contacts.map((c) => c.id), [kevin.id]);
  assert.equal((await client.groups.update(group.id, { archived_at: 1 })).archived_at, 1);
  assert.equal((await client.groups.list({ archived: true })).data[0]!.id, group.id);
  await client.groups.delete(group.id);
  await client.messages.delete(message.id);
  await client.conversations.delete(conversation.id);
  assert.equal((await client.conversations.create({ contact_id: kevin.id })).contact_id, kevin.id);
  await client.contacts.delete(kevin.id);
  const gone = await client.contacts.get(kevin.id).catch((e: unknown) => e);
  assert.ok(gone instanceof ProtocolError);
  assert.deepEqual([gone.status, gone.type], [404, 'invalid_request']);
});

test('auto-pagination walks every page', async () => {
  for (let i = 0; i < 25; i++) await client.contacts.create({ username: `page${i}`, phone_number: '1' });
  const seen: string[] = [];
  for await (const contact of client.contacts.list({ limit: 10 })) seen.push(contact.username);
  assert.equal(seen.length, 25);
  assert.equal(seen[0], 'page24');
  assert.equal(new Set(seen).size, 25);
});

test('attachments from a Blob, a Buffer and a path', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'plan.txt');
  fs.writeFileSync(file, 'the plan');
  const fromPath = await client.attachments.create(file, { type: 'text/plain' });
  assert.deepEqual([fromPath.filename, fromPath.file_size, fromPath.file_type], ['plan.txt', 8, 'text/plain']);
  const fromBuffer = await client.attachments.create(Buffer.from([1, 2, 3]), { filename: 'bytes.bin' });
  assert.deepEqual([fromBuffer.filename, fromBuffer.file_size, fromBuffer.file_type], ['bytes.bin', 3, 'application/octet-stream']);
  const fromBlob = await client.attachments.create(new Blob(['<svg/>'], { type: 'image/svg+xml' }), { filename: 'a.svg' });
  assert.equal(fromBlob.file_type, 'image/svg+xml');
  assert.equal(await (await fetch(fromPath.file_url)).text(), 'the plan');
  assert.equal((await client.attachments.update(fromBlob.id, { filename: 'b.svg' })).filename, 'b.svg');
  assert.equal((await client.attachments.list({ limit: 3 })).data.length, 3);
  await client.attachments.delete(fromBuffer.id);
  await assert.rejects(client.attachments.get(fromBuffer.id), (e: unknown) => e instanceof ProtocolError && e.status === 404);
});

test('webhooks, deliveries and events', async () => {
  const webhook = await client.webhooks.create({ name: 'sdk', url: `${receiver.url}/sdk`, events: ['group.created'] });
  assert.match(webhook.secret, /^whsec_/);
  assert.equal((await client.webhooks.get(webhook.id)).name, 'sdk');
  assert.equal((await client.webhooks.update(webhook.id, { name: 'sdk2' })).name, 'sdk2');
  assert.equal((await client.webhooks.secret(webhook.id)).secret, webhook.secret);
  const delivery = await client.webhooks.test(webhook.id, { type: 'group.created' });
  const [request] = await receiver.waitFor(1);
  assert.equal(verifyWebhook(request!.body, request!.headers, webhook.secret).type, 'group.created');
  const detail = await engine.waitForDelivery(delivery.id, (d) => d.status === 'succeeded');
  assert.equal((await client.deliveries.get(delivery.id)).attempts.length, detail.attempts.length);
  assert.equal((await client.deliveries.retry(delivery.id)).status, 'pending');
  await engine.waitForDelivery(delivery.id, (d) => d.status === 'succeeded' && d.attempts.length === 2);
  const listed = [];
  for await (const d of client.webhooks.deliveries(webhook.id, { status: 'succeeded' })) listed.push(d.id);
  assert.deepEqual(listed, [delivery.id]);
  assert.deepEqual((await client.webhooks.deliveries(webhook.id, { status: 'failed' })).data, []);
  assert.deepEqual(await client.webhooks.recover(webhook.id, 0), { recovered: 0 });
  const rotated = await client.webhooks.rotateSecret(webhook.id);
  assert.notEqual(rotated.secret, webhook.secret);
  await client.groups.create({ name: 'for events' });
  const events = await client.events.list({ type: 'group.created', limit: 1 });
  assert.equal(events.data[0]!.type, 'group.created');
  assert.equal((await client.events.get(events.data[0]!.id)).id, events.data[0]!.id);
  assert.ok((await client.webhooks.list()).data.some((w) => w.id === webhook.id));
  await client.webhooks.delete(webhook.id);
  const invalid = await client.webhooks.create({ name: 'x', url: 'nope', events: ['group.created'] }).catch((e: unknown) => e);
  assert.ok(invalid instanceof ProtocolError);
  assert.equal(invalid.param, 'url');
  const denied = await new ApiClient('sk_wrong', { baseUrl: `${engine.url}/v1` }).contacts.list().catch((e: unknown) => e);
  assert.ok(denied instanceof ProtocolError);
  assert.equal(denied.status, 401);
});
