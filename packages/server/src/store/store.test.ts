// The store conformance suite: the same assertions against a real SQLite file and a real
// PostgreSQL schema.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases } from '../test-support/databases.js';
import { openStore, type StoreFixture } from '../test-support/store.js';
import { ProtocolError } from '../errors.js';

const rejectsWith = (code: string, param?: string) => (error: unknown) => {
  assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${error}`);
  assert.equal(error.code, code);
  if (param) assert.equal(error.param, param);
  return true;
};

for (const target of await testDatabases()) {
  describe(`store on ${target.name}`, () => {
    let fx: StoreFixture;
    let account: string;
    let other: string;
    before(async () => {
      fx = await openStore(target);
      account = (await fx.store.accounts.create('Acme')).account.id;
      other = (await fx.store.accounts.create('Other')).account.id;
    });
    after(() => fx.close());

    const eventTypes = async (acct = account) => (await fx.store.events.list(acct, { limit: 100 })).data.map((e) => e.type).reverse();

    test('api keys: authenticate, ensure idempotently, revoke', async () => {
      const { key, info } = await fx.store.accounts.createKey(account, 'ci');
      assert.match(key, /^sk_[A-Za-z0-9]{32}$/);
      assert.equal((await fx.store.accounts.authenticate(key))?.account, account);
      assert.equal(await fx.store.accounts.authenticate(key + 'x'), undefined);
      assert.equal(info.hint, key.slice(-4));
      await fx.store.accounts.ensureKey(account, 'known-key-0123456789');
      await fx.store.accounts.ensureKey(account, 'known-key-0123456789');
      assert.equal((await fx.store.accounts.listKeys(account)).filter((k) => k.name === 'PROTOCOL_API_KEY').length, 1);
      assert.equal((await fx.store.accounts.authenticate('known-key-0123456789'))?.account, account);
      assert.equal(await fx.store.accounts.revokeKey(other, info.id), false, 'another account cannot revoke it');
      assert.equal(await fx.store.accounts.revokeKey(account, info.id), true);
      assert.equal(await fx.store.accounts.authenticate(key), undefined);
    });

    test('a contact comes with its conversation, and events for both in the same write', async () => {
      const before = fx.committed.length;
      const contact = await fx.store.contacts.create(account, { username: 'kevin', phone_number: '1-800-759-3000' });
      assert.match(contact.id, /^[A-Za-z0-9]{16}$/);
      assert.ok(contact.conversation_id);
      const conversation = await fx.store.conversations.get(account, contact.conversation_id!);
      assert.equal(conversation.contact_id, contact.id);
      assert.deepEqual(fx.committed.slice(before).map((e) => e.type), ['contact.created', 'conversation.created']);
      const created = await fx.store.events.get(account, fx.committed[before]!.id);
      assert.deepEqual(created.payload, contact);
      await assert.rejects(fx.store.contacts.create(account, { username: 'kevin', phone_number: '2' }), rejectsWith('conflict', 'username'));
    });

    test('update and delete cascade: the conversation and its messages go, memberships too', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'harry', phone_number: '1' });
      const updated = await fx.store.contacts.update(account, contact.id, { display_name: 'Harry' });
      assert.equal(updated.display_name, 'Harry');
      const group = await fx.store.groups.create(account, { name: 'Wet Bandits', contacts: [contact.id] });
      assert.deepEqual(group.contacts.map((c) => c.id), [contact.id]);
      const message = await fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'hi', contact_id: contact.id });
      const before = fx.committed.length;
      const deleted = await fx.store.contacts.delete(account, contact.id);
      assert.equal(deleted.display_name, 'Harry', 'the deleted payload is the contact as it was');
      assert.deepEqual(fx.committed.slice(before).map((e) => e.type), ['contact.deleted', 'conversation.deleted']);
      await assert.rejects(fx.store.conversations.get(account, contact.conversation_id!), rejectsWith('not_found'));
      await assert.rejects(fx.store.messages.get(account, message.id), rejectsWith('not_found'));
      assert.deepEqual((await fx.store.groups.get(account, group.id)).contacts, []);
      await assert.rejects(fx.store.contacts.get(account, contact.id), rejectsWith('not_found'));
    });

    test('messages: sender summary, reactions in both shapes, attachments, bookkeeping without events', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'kate', phone_number: '3', avatar_url: 'https://a.test/k.jpg' });
      const file = await fx.store.attachments.create(account, { storage_key: 'A'.repeat(32), filename: 'plan.pdf', file_type: 'application/pdf', file_size: 10 }, {});
      const before = fx.committed.length;
      const message = await fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'Kevin!', contact_id: contact.id, attachments: [file.id] });
      assert.deepEqual(fx.committed.slice(before).map((e) => e.type), ['message.created'], 'last_active_at bookkeeping emits nothing');
      assert.deepEqual(Object.keys(message.contact!).sort(), ['avatar_url', 'created_at', 'id', 'last_active_at', 'phone_number', 'username']);
      assert.equal(message.contact!.id, contact.id);
      assert.deepEqual(message.attachments.map((a) => a.id), [file.id]);
      assert.equal(message.attachments[0]!.message_id, message.id);
      assert.equal(typeof (await fx.store.contacts.get(account, contact.id)).last_active_at, 'number');
      assert.equal(typeof (await fx.store.conversations.get(account, contact.conversation_id!)).last_active_at, 'number');

      const own = await fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'from the account' });
      assert.equal(own.contact, null);

      const reacted = await fx.store.messages.update(account, message.id, { reactions: { red_angry_face: ['KateMcCallister'], smile: ['a', 'b'] }, read_at: 705103200 });
      assert.deepEqual(reacted.reactions, [{ red_angry_face: ['KateMcCallister'] }, { smile: ['a', 'b'] }]);
      assert.equal(reacted.read_at, 705103200);
      assert.deepEqual((await fx.store.messages.get(account, message.id)).reactions, reacted.reactions);

      const detached = await fx.store.messages.update(account, message.id, { attachments: [] });
      assert.deepEqual(detached.attachments, []);
      assert.equal((await fx.store.attachments.get(account, file.id)).message_id, null);

      const listed = await fx.store.messages.list(account, { conversation_id: contact.conversation_id!, limit: 10 });
      assert.deepEqual(listed.data.map((m) => m.id), [own.id, message.id]);
      await fx.store.messages.delete(account, own.id);
      await assert.rejects(fx.store.messages.get(account, own.id), rejectsWith('not_found'));
    });

    test('a failed write rolls back the change and its events', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'marv', phone_number: '4' });
      const eventsBefore = (await fx.store.events.list(account, { limit: 100 })).data.length;
      const messagesBefore = (await fx.store.messages.list(account, { limit: 100 })).data.length;
      const groupsBefore = (await fx.store.groups.list(account, { limit: 100 })).data.length;
      // Each fails after its first INSERT: the message row, the group and its conversation.
      await assert.rejects(fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'x', attachments: ['nope'] }), rejectsWith('not_found', 'attachments'));
      // The sender is checked after the message's INSERT (which checked the conversation): the conversation's error comes first.
      await assert.rejects(fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'x', contact_id: 'missing' }), rejectsWith('not_found', 'contact_id'));
      await assert.rejects(fx.store.messages.send(account, { conversation_id: 'missing', message: 'x', contact_id: 'missing' }), rejectsWith('not_found', 'conversation_id'));
      await assert.rejects(fx.store.groups.create(account, { name: 'g', contacts: [contact.id, 'missing'] }), rejectsWith('not_found', 'contacts'));
      assert.equal((await fx.store.events.list(account, { limit: 100 })).data.length, eventsBefore);
      assert.equal((await fx.store.messages.list(account, { limit: 100 })).data.length, messagesBefore);
      assert.equal((await fx.store.groups.list(account, { limit: 100 })).data.length, groupsBefore);
    });

    test('conversations: exactly one owner, one conversation each, filters, pins', async () => {
      const group = await fx.store.groups.create(account, { name: 'Family' });
      await assert.rejects(fx.store.conversations.create(account, { group_id: group.id }), rejectsWith('conflict', 'group_id'));
      await assert.rejects(fx.store.conversations.create(account, {} as never), rejectsWith('invalid_request'));
      await assert.rejects(fx.store.conversations.create(account, { contact_id: 'x', group_id: group.id } as never), rejectsWith('invalid_request'));
      await assert.rejects(fx.store.conversations.create(account, { contact_id: 'nope' }), rejectsWith('not_found', 'contact_id'));
      await fx.store.conversations.delete(account, group.conversation_id!);
      assert.equal((await fx.store.groups.get(account, group.id)).conversation_id, null);
      const conversation = await fx.store.conversations.create(account, { group_id: group.id });
      assert.equal((await fx.store.groups.get(account, group.id)).conversation_id, conversation.id);

      const message = await fx.store.messages.send(account, { conversation_id: conversation.id, message: 'pin me' });
      const pinned = await fx.store.conversations.update(account, conversation.id, { is_pinned: true, is_muted: true, archived_at: 100, pinned_message_id: message.id });
      assert.equal(pinned.is_pinned, true);
      assert.equal(pinned.pinned_message_id, message.id);
      const elsewhere = await fx.store.contacts.create(account, { username: 'elsewhere', phone_number: '5' });
      const foreign = await fx.store.messages.send(account, { conversation_id: elsewhere.conversation_id!, message: 'no' });
      await assert.rejects(fx.store.conversations.update(account, conversation.id, { pinned_message_id: foreign.id }), rejectsWith('not_found', 'pinned_message_id'));

      const ids = async (params: object) => (await fx.store.conversations.list(account, { limit: 100, ...params })).data.map((c) => c.id);
      assert.deepEqual(await ids({ muted: true }), [conversation.id]);
      assert.deepEqual(await ids({ pinned: true, archived: true }), [conversation.id]);
      assert.ok(!(await ids({ archived: false })).includes(conversation.id));
      assert.deepEqual(await ids({ group_id: group.id }), [conversation.id]);

      await fx.store.messages.delete(account, message.id);
      assert.equal((await fx.store.conversations.get(account, conversation.id)).pinned_message_id, null, 'deleting the pinned message clears the pin');
    });

    test('groups: members in order, archive filter, delete cascades to the conversation', async () => {
      const a = await fx.store.contacts.create(account, { username: 'g-a', phone_number: '6' });
      const b = await fx.store.contacts.create(account, { username: 'g-b', phone_number: '7' });
      const group = await fx.store.groups.create(account, { name: 'Plaza', contacts: [b.id, a.id] });
      assert.deepEqual(group.contacts.map((c) => c.username), ['g-b', 'g-a']);
      const updated = await fx.store.groups.update(account, group.id, { contacts: [a.id], archived_at: 1, description: 'hotel' });
      assert.deepEqual(updated.contacts.map((c) => c.id), [a.id]);
      assert.ok((await fx.store.groups.list(account, { archived: true, limit: 100 })).data.some((g) => g.id === group.id));
      assert.ok(!(await fx.store.groups.list(account, { archived: false, limit: 100 })).data.some((g) => g.id === group.id));
      await fx.store.messages.send(account, { conversation_id: group.conversation_id!, message: 'in the group' });
      const before = fx.committed.length;
      await fx.store.groups.delete(account, group.id);
      assert.deepEqual(fx.committed.slice(before).map((e) => e.type), ['group.deleted', 'conversation.deleted'], 'messages removed with the conversation emit nothing');
      assert.equal((await fx.store.messages.list(account, { conversation_id: group.conversation_id!, limit: 10 })).data.length, 0);
    });

    test('attachments: rename, filter by conversation, delete', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'att', phone_number: '8' });
      const message = await fx.store.messages.send(account, { conversation_id: contact.conversation_id!, message: 'file' });
      const file = await fx.store.attachments.create(account, { storage_key: 'B'.repeat(32), filename: 'a.png', file_type: 'image/png', file_size: 3 }, { message_id: message.id });
      assert.equal(file.file_url, `http://files.test/files/${account}/${'B'.repeat(32)}`);
      await assert.rejects(fx.store.attachments.create(account, { storage_key: 'C'.repeat(32), filename: 'x', file_type: 'x', file_size: 1 }, { message_id: 'nope' }), rejectsWith('not_found', 'message_id'));
      const renamed = await fx.store.attachments.update(account, file.id, { filename: 'b.png' });
      assert.equal(renamed.filename, 'b.png');
      assert.equal(renamed.file_url, file.file_url);
      const listed = await fx.store.attachments.list(account, { conversation_id: contact.conversation_id!, limit: 10 });
      assert.deepEqual(listed.data.map((a) => a.id), [file.id]);
      assert.deepEqual(await fx.store.attachments.findFile(other, 'B'.repeat(32)), undefined);
      const { storageKey } = await fx.store.attachments.delete(account, file.id);
      assert.equal(storageKey, 'B'.repeat(32));
      await assert.rejects(fx.store.attachments.get(account, file.id), rejectsWith('not_found'));
    });

    test('pagination: newest first, both cursors, has_more at both ends, stable under inserts', async () => {
      const tenant = (await fx.store.accounts.create('Pages')).account.id;
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) ids.push((await fx.store.contacts.create(tenant, { username: `p${i}`, phone_number: String(i) })).id);
      const newest = [...ids].reverse();
      const first = await fx.store.contacts.list(tenant, { limit: 10 });
      assert.deepEqual(first.data.map((c) => c.id), newest.slice(0, 10));
      assert.equal(first.has_more, true);
      // Rows inserted between pages neither shift nor repeat the next page.
      await fx.store.contacts.create(tenant, { username: 'late', phone_number: 'x' });
      const second = await fx.store.contacts.list(tenant, { limit: 10, starting_after: first.data.at(-1)!.id });
      assert.deepEqual(second.data.map((c) => c.id), newest.slice(10, 20));
      const last = await fx.store.contacts.list(tenant, { limit: 10, starting_after: second.data.at(-1)!.id });
      assert.deepEqual(last.data.map((c) => c.id), newest.slice(20));
      assert.equal(last.has_more, false);
      const back = await fx.store.contacts.list(tenant, { limit: 10, ending_before: second.data[0]!.id });
      assert.deepEqual(back.data.map((c) => c.id), newest.slice(0, 10));
      assert.equal(back.has_more, true, 'the late row is newer still');
      const top = await fx.store.contacts.list(tenant, { limit: 10, ending_before: back.data[0]!.id });
      assert.equal(top.data.length, 1);
      assert.equal(top.has_more, false);
      const defaults = await fx.store.contacts.list(tenant, {});
      assert.equal(defaults.data.length, 10);
      await assert.rejects(fx.store.contacts.list(tenant, { starting_after: 'nope' }), rejectsWith('invalid_request', 'starting_after'));
      await assert.rejects(fx.store.contacts.list(account, { starting_after: ids[0] }), rejectsWith('invalid_request', 'starting_after'), "another account's cursor is unknown");
      await assert.rejects(fx.store.contacts.list(tenant, { starting_after: ids[1], ending_before: ids[0] }), rejectsWith('invalid_request'));
    });

    test("tenant isolation: another account's ids are unknown for read, update, delete and references", async () => {
      const theirs = await fx.store.contacts.create(other, { username: 'theirs', phone_number: '9' });
      const group = await fx.store.groups.create(other, { name: 'theirs' });
      const message = await fx.store.messages.send(other, { conversation_id: theirs.conversation_id!, message: 'secret' });
      const eventsBefore = await eventTypes();
      await assert.rejects(fx.store.contacts.get(account, theirs.id), rejectsWith('not_found'));
      await assert.rejects(fx.store.contacts.update(account, theirs.id, { display_name: 'x' }), rejectsWith('not_found'));
      await assert.rejects(fx.store.contacts.delete(account, theirs.id), rejectsWith('not_found'));
      await assert.rejects(fx.store.conversations.get(account, theirs.conversation_id!), rejectsWith('not_found'));
      await assert.rejects(fx.store.conversations.delete(account, theirs.conversation_id!), rejectsWith('not_found'));
      await assert.rejects(fx.store.groups.update(account, group.id, { name: 'x' }), rejectsWith('not_found'));
      await assert.rejects(fx.store.messages.get(account, message.id), rejectsWith('not_found'));
      await assert.rejects(fx.store.messages.update(account, message.id, { message: 'x' }), rejectsWith('not_found'));
      await assert.rejects(fx.store.messages.send(account, { conversation_id: theirs.conversation_id!, message: 'x' }), rejectsWith('not_found', 'conversation_id'));
      await assert.rejects(fx.store.groups.create(account, { name: 'x', contacts: [theirs.id] }), rejectsWith('not_found', 'contacts'));
      await assert.rejects(fx.store.events.get(account, (await fx.store.events.list(other, { limit: 1 })).data[0]!.id), rejectsWith('not_found'));
      assert.deepEqual(await eventTypes(), eventsBefore, 'nothing was emitted');
      assert.equal((await fx.store.contacts.get(other, theirs.id)).display_name, null, 'nothing changed');
      assert.ok(!(await fx.store.contacts.list(account, { limit: 100 })).data.some((c) => c.id === theirs.id));
    });

    test('events: filter by type, payload is the resource after the change', async () => {
      const contact = await fx.store.contacts.create(account, { username: 'ev', phone_number: '10' });
      await fx.store.contacts.update(account, contact.id, { display_name: 'Eve' });
      const updated = await fx.store.events.list(account, { type: 'contact.updated', limit: 1 });
      assert.equal(updated.data[0]!.type, 'contact.updated');
      assert.equal((updated.data[0]!.payload as { display_name: string }).display_name, 'Eve');
      assert.equal(typeof updated.data[0]!.created_at, 'number');
      await assert.rejects(fx.store.events.get(account, 'nope'), rejectsWith('not_found'));
    });
  });
}
