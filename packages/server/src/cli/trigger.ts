import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, type ApiClient, type Contact } from '@protocol/sdk';
import { CliError } from './remote.js';

/**
 * `protocol trigger TYPE`: the real API calls that produce an event of that type, so the whole
 * path (event → delivery → your endpoint) runs. A `*.deleted` creates something and deletes it.
 * Returns one line per call made.
 */
export async function trigger(client: ApiClient, type: string): Promise<string[]> {
  if (!(EVENT_TYPES as readonly string[]).includes(type)) throw new CliError(`Unknown event type '${type}'. One of: ${EVENT_TYPES.join(', ')}`);
  const [resource, action] = type.split('.') as [string, 'created' | 'updated' | 'deleted'];
  const did: string[] = [];
  const suffix = randomBytes(3).toString('hex');
  const contact = async (): Promise<Contact> => {
    const created = await client.contacts.create({ username: `trigger_${suffix}`, phone_number: '1-800-759-3000' });
    did.push(`created contact ${created.id} (${created.username}) and its conversation ${created.conversation_id}`);
    return created;
  };

  switch (resource) {
    case 'contact': {
      const c = await contact();
      if (action === 'updated') did.push(`updated contact ${(await client.contacts.update(c.id, { display_name: 'Kevin' })).id}: display_name=Kevin`);
      if (action === 'deleted') await client.contacts.delete(c.id).then(() => did.push(`deleted contact ${c.id}`));
      break;
    }
    case 'conversation': {
      const c = await contact();
      if (action === 'updated') did.push(`updated conversation ${(await client.conversations.update(c.conversation_id!, { is_pinned: true })).id}: is_pinned=true`);
      if (action === 'deleted') await client.conversations.delete(c.conversation_id!).then(() => did.push(`deleted conversation ${c.conversation_id}`));
      break;
    }
    case 'message': {
      const c = await contact();
      const message = await client.messages.send({ conversation_id: c.conversation_id!, contact_id: c.id, message: 'Keep the change, ya filthy animal.' });
      did.push(`sent message ${message.id} in conversation ${c.conversation_id}`);
      if (action === 'updated') did.push(`updated message ${(await client.messages.update(message.id, { reactions: { red_angry_face: [c.username] } })).id}: a reaction`);
      if (action === 'deleted') await client.messages.delete(message.id).then(() => did.push(`deleted message ${message.id}`));
      break;
    }
    case 'group': {
      const group = await client.groups.create({ name: `Trigger ${suffix}`, description: 'Made by protocol trigger' });
      did.push(`created group ${group.id} (${group.name}) and its conversation ${group.conversation_id}`);
      if (action === 'updated') did.push(`updated group ${(await client.groups.update(group.id, { name: `Trigger ${suffix} (renamed)` })).id}: name`);
      if (action === 'deleted') await client.groups.delete(group.id).then(() => did.push(`deleted group ${group.id}`));
      break;
    }
    case 'attachment': {
      const file = new Blob([`Made by protocol trigger ${suffix}\n`], { type: 'text/plain' });
      const attachment = await client.attachments.create(file, { filename: `trigger-${suffix}.txt` });
      did.push(`uploaded attachment ${attachment.id} (${attachment.filename})`);
      if (action === 'updated') did.push(`renamed attachment ${(await client.attachments.update(attachment.id, { filename: `renamed-${suffix}.txt` })).id}`);
      if (action === 'deleted') await client.attachments.delete(attachment.id).then(() => did.push(`deleted attachment ${attachment.id}`));
      break;
    }
  }
  return did;
}
