import type { Conversation, ConversationCreateParams, ConversationListParams, ConversationUpdateParams, Page } from '@protocol/sdk';
import { ProtocolError, invalid, notFound } from '../errors.js';
import { write, type StoreContext, type WriteScope } from './context.js';
import { newId } from './ids.js';
import { paginate } from './pagination.js';
import type { Row } from './schema.js';

export function toConversation(row: Row<'conversations'>): Conversation {
  return {
    id: row.id,
    contact_id: row.contact_id,
    group_id: row.group_id,
    pinned_message_id: row.pinned_message_id,
    is_pinned: row.is_pinned === 1,
    is_muted: row.is_muted === 1,
    last_active_at: row.last_active_at,
    last_opened_at: row.last_opened_at,
    created_at: row.created_at,
    archived_at: row.archived_at,
  };
}

/** Inserts a conversation for a contact or a group; the caller emits `conversation.created`. */
export async function insertConversation(scope: WriteScope, owner: { contact_id: string | null; group_id: string | null }): Promise<Conversation> {
  const row = {
    id: newId(),
    account_id: scope.account,
    contact_id: owner.contact_id,
    group_id: owner.group_id,
    pinned_message_id: null,
    is_pinned: 0,
    is_muted: 0,
    last_active_at: null,
    last_opened_at: null,
    created_at: scope.now,
    archived_at: null,
  };
  await scope.tx.insertInto('conversations').values(row).execute();
  return toConversation({ ...row, seq: 0 });
}

/**
 * Deletes a conversation with its messages and emits `conversation.deleted`. The messages go
 * silently (SPEC §5); their attachments stay, detached. The owner's `conversation_id` clears.
 */
export async function deleteConversationIn(scope: WriteScope, id: string): Promise<Conversation | undefined> {
  const { tx, account } = scope;
  const row = await tx.selectFrom('conversations').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const messageIds = tx.selectFrom('messages').select('id').where('account_id', '=', account).where('conversation_id', '=', id);
  await tx.updateTable('attachments').set({ message_id: null }).where('account_id', '=', account).where('message_id', 'in', messageIds).execute();
  await tx.deleteFrom('messages').where('account_id', '=', account).where('conversation_id', '=', id).execute();
  await tx.deleteFrom('conversations').where('account_id', '=', account).where('id', '=', id).execute();
  if (row.contact_id) await tx.updateTable('contacts').set({ conversation_id: null }).where('account_id', '=', account).where('id', '=', row.contact_id).execute();
  if (row.group_id) await tx.updateTable('groups').set({ conversation_id: null }).where('account_id', '=', account).where('id', '=', row.group_id).execute();
  const conversation = toConversation(row);
  await scope.emit('conversation.deleted', conversation);
  return conversation;
}

export function conversationsStore(ctx: StoreContext) {
  return {
    async list(account: string, params: ConversationListParams): Promise<Page<Conversation>> {
      let query = ctx.db.selectFrom('conversations').selectAll().where('account_id', '=', account);
      if (params.muted !== undefined) query = query.where('is_muted', '=', params.muted ? 1 : 0);
      if (params.pinned !== undefined) query = query.where('is_pinned', '=', params.pinned ? 1 : 0);
      if (params.archived !== undefined) query = query.where('archived_at', params.archived ? 'is not' : 'is', null);
      if (params.group_id !== undefined) query = query.where('group_id', '=', params.group_id);
      const page = await paginate(ctx.db, 'conversations', account, params, query);
      return { has_more: page.has_more, data: page.data.map(toConversation) };
    },

    async get(account: string, id: string): Promise<Conversation> {
      const row = await ctx.db.selectFrom('conversations').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('conversation', id);
      return toConversation(row);
    },

    /** A contact or group has at most one conversation; a second one is a conflict. */
    create(account: string, input: ConversationCreateParams): Promise<Conversation> {
      return write(ctx, account, async (scope) => {
        const hasContact = input.contact_id != null;
        if (hasContact === (input.group_id != null)) throw invalid('Give exactly one of contact_id or group_id', hasContact ? 'group_id' : 'contact_id');
        const [table, param, ownerId] = hasContact ? (['contacts', 'contact_id', input.contact_id!] as const) : (['groups', 'group_id', input.group_id!] as const);
        const owner = await scope.tx.selectFrom(table).select(['id', 'conversation_id']).where('account_id', '=', account).where('id', '=', ownerId).executeTakeFirst();
        if (!owner) throw notFound(hasContact ? 'contact' : 'group', ownerId, param);
        if (owner.conversation_id) throw new ProtocolError('conflict', `That ${hasContact ? 'contact' : 'group'} already has conversation '${owner.conversation_id}'`, param);
        const conversation = await insertConversation(scope, { contact_id: hasContact ? ownerId : null, group_id: hasContact ? null : ownerId });
        await scope.tx.updateTable(table).set({ conversation_id: conversation.id }).where('account_id', '=', account).where('id', '=', ownerId).execute();
        await scope.emit('conversation.created', conversation);
        return conversation;
      });
    },

    update(account: string, id: string, input: ConversationUpdateParams): Promise<Conversation> {
      return write(ctx, account, async (scope) => {
        const before = await scope.tx.selectFrom('conversations').selectAll().where('account_id', '=', account).where('id', '=', id).executeTakeFirst();
        if (!before) throw notFound('conversation', id);
        if (input.pinned_message_id != null) {
          const message = await scope.tx
            .selectFrom('messages')
            .select('id')
            .where('account_id', '=', account)
            .where('id', '=', input.pinned_message_id)
            .where('conversation_id', '=', id)
            .executeTakeFirst();
          if (!message) throw notFound('message in this conversation', input.pinned_message_id, 'pinned_message_id');
        }
        const changes = {
          ...(input.pinned_message_id !== undefined && { pinned_message_id: input.pinned_message_id }),
          ...(input.is_pinned !== undefined && { is_pinned: input.is_pinned ? 1 : 0 }),
          ...(input.is_muted !== undefined && { is_muted: input.is_muted ? 1 : 0 }),
          ...(input.archived_at !== undefined && { archived_at: input.archived_at }),
        };
        if (Object.keys(changes).length > 0) {
          await scope.tx.updateTable('conversations').set(changes).where('account_id', '=', account).where('id', '=', id).execute();
        }
        const conversation = toConversation({ ...before, ...changes });
        await scope.emit('conversation.updated', conversation);
        return conversation;
      });
    },

    delete(account: string, id: string): Promise<Conversation> {
      return write(ctx, account, async (scope) => {
        const conversation = await deleteConversationIn(scope, id);
        if (!conversation) throw notFound('conversation', id);
        return conversation;
      });
    },
  };
}
