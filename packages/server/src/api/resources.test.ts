// Every endpoint of the five resources and the events log, over real loopback HTTP, in JSON and
// in the docs' form-encoded `curl -d` style.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openApi, type ApiFixture } from '../test-support/api.js';

let api: ApiFixture;
before(async () => {
  api = await openApi();
});
after(() => api.close());

describe('contacts', () => {
  test("create with the docs' curl -d body, list, get, update (PUT and PATCH), delete", async () => {
    const created = await api.request('POST', '/v1/contacts', {
      form: 'username=FrankMcCallister&phone_number=1-800-759-3000&avatar_url=https://assets.protocol.chat/avatars/frank.jpg',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.username, 'FrankMcCallister');
    assert.equal(created.body.avatar_url, 'https://assets.protocol.chat/avatars/frank.jpg');
    assert.deepEqual(Object.keys(created.body).sort(), ['avatar_url', 'conversation_id', 'created_at', 'display_name', 'id', 'last_active_at', 'phone_number', 'username']);
    const id = created.body.id;

    const got = await api.request('GET', `/v1/contacts/${id}`);
    assert.deepEqual(got.body, created.body);
    const put = await api.request('PUT', `/v1/contacts/${id}`, { form: 'display_name=UncleFrank' });
    assert.equal(put.status, 200);
    assert.equal(put.body.display_name, 'UncleFrank');
    const patch = await api.request('PATCH', `/v1/contacts/${id}`, { json: { display_name: null } });
    assert.equal(patch.status, 200);
    assert.equal(patch.body.display_name, null);

    const list = await api.request('GET', '/v1/contacts?limit=1');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { has_more: false, data: [patch.body] });

    const removed = await api.request('DELETE', `/v1/contacts/${id}`);
    assert.equal(removed.status, 204);
    assert.equal(removed.body, '');
    assert.equal((await api.request('GET', `/v1/contacts/${id}`)).status, 404);
  });
});

describe('conversations, messages, groups', () => {
  test('conversations: get, update with form booleans, filters, delete', async () => {
    const contact = (await api.request('POST', '/v1/contacts', { json: { username: 'Kevin', phone_number: '1' } })).body;
    const conversationId = contact.conversation_id;
    const updated = await api.request('PUT', `/v1/conversations/${conversationId}`, { form: 'is_muted=true&is_pinned=true&archived_at=705103200' });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.is_muted, true);
    assert.equal(updated.body.is_pinned, true);
    assert.equal(updated.body.archived_at, 705103200);
    const unarchived = await api.request('PATCH', `/v1/conversations/${conversationId}`, { form: 'archived_at=' });
    assert.equal(unarchived.body.archived_at, null, 'an empty form value is null');
    const muted = await api.request('GET', '/v1/conversations?muted=true&archived=false');
    assert.deepEqual(muted.body.data.map((c: { id: string }) => c.id), [conversationId]);
    assert.deepEqual((await api.request('GET', '/v1/conversations?muted=false')).body.data.filter((c: { id: string }) => c.id === conversationId), []);
    assert.equal((await api.request('DELETE', `/v1/conversations/${conversationId}`)).status, 204);
    const recreated = await api.request('POST', '/v1/conversations', { form: `contact_id=${contact.id}` });
    assert.equal(recreated.status, 201);
    assert.equal(recreated.body.contact_id, contact.id);
    assert.equal((await api.request('GET', `/v1/contacts/${contact.id}`)).body.conversation_id, recreated.body.id);
    const again = await api.request('POST', '/v1/conversations', { json: { contact_id: contact.id } });
    assert.equal(again.status, 409);
    assert.equal(again.body.param, 'contact_id');
  });

  test("messages: send, react with the docs' bracket form, mark read, list by conversation, delete", async () => {
    const contact = (await api.request('POST', '/v1/contacts', { json: { username: 'KateMcCallister', phone_number: '2' } })).body;
    const sent = await api.request('POST', '/v1/messages', {
      form: `conversation_id=${contact.conversation_id}&contact_id=${contact.id}&message=You're what the French call 'les incompetents.'`,
    });
    assert.equal(sent.status, 201);
    assert.equal(sent.body.message, "You're what the French call 'les incompetents.'");
    assert.equal(sent.body.contact.id, contact.id);
    assert.deepEqual(sent.body.reactions, []);
    assert.deepEqual(sent.body.attachments, []);

    const reacted = await api.request('PUT', `/v1/messages/${sent.body.id}`, { form: 'reactions[red_angry_face][]=KateMcCallister&read_at=705103200' });
    assert.equal(reacted.status, 200);
    assert.deepEqual(reacted.body.reactions, [{ red_angry_face: ['KateMcCallister'] }]);
    assert.equal(reacted.body.read_at, 705103200);
    const json = await api.request('PATCH', `/v1/messages/${sent.body.id}`, { json: { reactions: { smile: ['a', 'b'] }, message: 'edited' } });
    assert.deepEqual(json.body.reactions, [{ smile: ['a', 'b'] }]);
    assert.equal(json.body.message, 'edited');

    const own = await api.request('POST', '/v1/messages', { json: { conversation_id: contact.conversation_id, message: 'from us' } });
    assert.equal(own.body.contact, null);
    const listed = await api.request('GET', `/v1/messages?conversation_id=${contact.conversation_id}`);
    assert.deepEqual(listed.body.data.map((m: { id: string }) => m.id), [own.body.id, sent.body.id]);
    assert.deepEqual(await api.request('GET', `/v1/messages/${sent.body.id}`).then((r) => r.body), json.body);
    assert.equal((await api.request('DELETE', `/v1/messages/${own.body.id}`)).status, 204);
    assert.equal((await api.request('GET', `/v1/messages/${own.body.id}`)).status, 404);
  });

  test('groups: create with contacts[] in a form, update, archive filter, delete', async () => {
    const a = (await api.request('POST', '/v1/contacts', { json: { username: 'BuzzMcCallister', phone_number: '3' } })).body;
    const b = (await api.request('POST', '/v1/contacts', { json: { username: 'Megan', phone_number: '4' } })).body;
    const created = await api.request('POST', '/v1/groups', { form: `name=Plaza Hotel&description=Kids&contacts[]=${a.id}&contacts[]=${b.id}` });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.contacts.map((c: { id: string }) => c.id), [a.id, b.id]);
    assert.ok(created.body.conversation_id);
    const one = await api.request('PUT', `/v1/groups/${created.body.id}`, { form: `contacts=${a.id}&archived_at=1` });
    assert.deepEqual(one.body.contacts.map((c: { id: string }) => c.id), [a.id], 'a single form value becomes a one-element list');
    assert.equal(one.body.archived_at, 1);
    assert.deepEqual((await api.request('GET', '/v1/groups?archived=true')).body.data.map((g: { id: string }) => g.id), [created.body.id]);
    const conversations = await api.request('GET', `/v1/conversations?group_id=${created.body.id}`);
    assert.deepEqual(conversations.body.data.map((c: { id: string }) => c.id), [created.body.conversation_id]);
    assert.equal((await api.request('GET', `/v1/groups/${created.body.id}`)).body.name, 'Plaza Hotel');
    assert.equal((await api.request('DELETE', `/v1/groups/${created.body.id}`)).status, 204);
    assert.equal((await api.request('GET', `/v1/conversations/${created.body.conversation_id}`)).status, 404);
  });
});

describe('events', () => {
  test('every change is logged once, filterable by type, readable by id', async () => {
    const contact = (await api.request('POST', '/v1/contacts', { json: { username: 'Events', phone_number: '5' } })).body;
    await api.request('PUT', `/v1/contacts/${contact.id}`, { json: { display_name: 'E' } });
    await api.request('DELETE', `/v1/contacts/${contact.id}`);
    const recent = await api.request('GET', '/v1/events?limit=4');
    assert.deepEqual(recent.body.data.map((e: { type: string }) => e.type), ['conversation.deleted', 'contact.deleted', 'contact.updated', 'conversation.created']);
    const deleted = recent.body.data[1];
    assert.equal(deleted.payload.display_name, 'E', 'a deleted payload is the object just before');
    const byType = await api.request('GET', '/v1/events?type=contact.updated&limit=100');
    assert.ok(byType.body.data.every((e: { type: string }) => e.type === 'contact.updated'));
    assert.deepEqual(await api.request('GET', `/v1/events/${deleted.id}`).then((r) => r.body), deleted);
    assert.deepEqual(Object.keys(deleted).sort(), ['created_at', 'id', 'payload', 'type']);
    const bad = await api.request('GET', '/v1/events?type=contact.exploded');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, 'type');
  });
});

describe('pagination over HTTP', () => {
  test('limit bounds and cursors', async () => {
    for (let i = 0; i < 3; i++) await api.request('POST', '/v1/contacts', { json: { username: `page${i}`, phone_number: '6' } });
    const page = await api.request('GET', '/v1/contacts?limit=2');
    assert.equal(page.body.data.length, 2);
    assert.equal(page.body.has_more, true);
    const next = await api.request('GET', `/v1/contacts?limit=2&starting_after=${page.body.data[1].id}`);
    assert.notEqual(next.body.data[0].id, page.body.data[1].id);
    const back = await api.request('GET', `/v1/contacts?limit=2&ending_before=${next.body.data[0].id}`);
    assert.deepEqual(back.body.data, page.body.data);
    assert.equal((await api.request('GET', '/v1/contacts?limit=101')).status, 400);
    assert.equal((await api.request('GET', '/v1/contacts?limit=0')).status, 400);
    assert.equal((await api.request('GET', '/v1/contacts?limit=100')).status, 200);
    const unknown = await api.request('GET', '/v1/contacts?sort=asc');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.param, 'sort');
  });
});
