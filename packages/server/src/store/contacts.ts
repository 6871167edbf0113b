import type { Transaction } from 'kysely';
import type { Contact, ContactCreateParams, ContactSummary, ContactUpdateParams, ListParams, Page } from '@protocol/sdk';
import { ProtocolError, notFound } from '../errors.js';
import { write, type StoreContext, type WriteScope } from './context.js';
import { deleteConversationIn, insertConversation } from './conversations.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import type { Row, Tables } from './schema.js';

export function toContact(row: Row<'contacts'>): Contact {
  return {
    id: row.id,
    username: row.username,
    phone_number: row.phone_number,
    avatar_url: row.avatar_url,
    display_name: row.display_name,
    conversation_id: row.conversation_id,
    last_active_at: row.last_active_at,
    created_at: row.created_at,
  };
}

/** The sender summary embedded in messages and groups (SPEC §4). */
export function toSummary(row: Row<'contacts'>): ContactSummary {
  return {
    id: row.id,
    username: row.username,
    phone_number: row.phone_number,
    avatar_url: row.avatar_url,
    last_active_at: row.last_active_at,
    created_at: row.created_at,
  };
}

export async function findContactRow(db: Transaction<Tables> | StoreContext['db'], account: string, id: string) {
  return db.selectFrom('contacts').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
}

async function requireContactRow(scope: WriteScope, id: string) {
  const row = await findContactRow(scope.tx, scope.account, id);
  if (!row) throw notFound('contact', id);
  return row;
}

async function assertUsernameFree(scope: WriteScope, username: string) {
  const taken = await scope.tx
    .selectFrom('contacts')
    .select('id')
    .where('account_id', '=', scope.account)
    .where('username', '=', username)
    .executeTakeFirst();
  if (taken) throw new ProtocolError('conflict', `A contact with username '${username}' already exists`, 'username');
}

export function contactsStore(ctx: StoreContext) {
  return {
    async list(account: string, params: ListParams): Promise<Page<Contact>> {
      const query = ctx.db.selectFrom('contacts').selectAll().where('account_id', '=', account);
      const page = await paginate(ctx.db, 'contacts', account, params, query);
      return { has_more: page.has_more, data: page.data.map(toContact) };
    },

    async get(account: string, id: string): Promise<Contact> {
      const row = await findContactRow(ctx.db, account, id);
      if (!row) throw notFound('contact', id);
      return toContact(row);
    },

    /** A new contact comes with its conversation: `contact.created`, then `conversation.created`. */
    create(account: string, input: ContactCreateParams): Promise<Contact> {
      return write(ctx, account, async (scope) => {
        await assertUsernameFree(scope, input.username);
        const id = newId();
        const conversation = await insertConversation(scope, { contact_id: id, group_id: null });
        const row = {
          id,
          account_id: account,
          username: input.username,
          phone_number: input.phone_number,
          avatar_url: input.avatar_url ?? null,
          display_name: input.display_name ?? null,
          conversation_id: conversation.id,
          last_active_at: null,
          created_at: scope.now,
        };
        await scope.tx.insertInto('contacts').values(row).execute();
        const contact = toContact({ ...row, seq: 0 });
        await scope.emit('contact.created', contact);
        await scope.emit('conversation.created', conversation);
        return contact;
      });
    },

    update(account: string, id: string, input: ContactUpdateParams): Promise<Contact> {
      return write(ctx, account, async (scope) => {
        const before = await requireContactRow(scope, id);
        const changes = { ...(input.display_name !== undefined && { display_name: input.display_name }) };
        const after = { ...before, ...changes };
        if (Object.keys(changes).length > 0) {
          await scope.tx.updateTable('contacts').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        }
        const contact = toContact(after);
        await scope.emit('contact.updated', contact);
        return contact;
      });
    },

    /**
     * Deleting a contact deletes its conversation (and that conversation's messages) and takes
     * it out of every group. Messages it sent elsewhere stay, with a `null` sender summary.
     */
    delete(account: string, id: string): Promise<Contact> {
      return write(ctx, account, async (scope) => {
        const row = await requireContactRow(scope, id);
        const contact = toContact(row);
        await scope.tx.deleteFrom('contacts').where('account_id', '=', account).where('id', '=', id).execute();
        await scope.tx.deleteFrom('group_members').where('account_id', '=', account).where('contact_id', '=', id).execute();
        await scope.emit('contact.deleted', contact);
        if (row.conversation_id) await deleteConversationIn(scope, row.conversation_id);
        return contact;
      });
    },
  };
}
